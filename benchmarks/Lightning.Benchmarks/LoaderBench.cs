using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using Lightning.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace Lightning.Benchmarks;

/// <summary>
/// Is the loader ever the bottleneck? Samples/s of TensorDataLoader (shuffled index_select batches, each freed after
/// use as in the trainer's step scope), with and without Prefetch, against the samples/s the models consume in the
/// trainer (the training step replaced by nothing but the loader gives the first number; the real step the second).
/// </summary>
public static class LoaderBench
{
    public static int Run(BenchData data, TrainerOptions options, IReadOnlyList<int> batchSizes, TextWriter output)
    {
        output.WriteLine($"Loader throughput vs. model consumption ({data.Description}), samples/s, median of 3");
        foreach (int bs in batchSizes)
        {
            double plain = Median(() => LoaderRate(data, bs, prefetch: 0));
            double ahead = Median(() => LoaderRate(data, bs, prefetch: 2));
            double mlp = ModelRate(data, options, bs, () => new TinyMlp(), 300);
            double cnn = ModelRate(data, options, bs, () => new SeedCnn(), bs <= 64 ? 60 : 20);
            var ci = CultureInfo.InvariantCulture;
            output.WriteLine($"batch {bs}: loader {plain.ToString("0", ci)} (prefetch 2: {ahead.ToString("0", ci)}); " +
                $"tiny MLP consumes {mlp.ToString("0", ci)} -> loader/model {(plain / mlp).ToString("0.0", ci)}x; " +
                $"seed CNN consumes {cnn.ToString("0", ci)} -> loader/model {(plain / cnn).ToString("0.0", ci)}x");
        }
        return 0;
    }

    private static double Median(Func<double> measure)
    {
        var values = Enumerable.Range(0, 3).Select(_ => measure()).OrderBy(v => v).ToList();
        return values[1];
    }

    /// <summary>One shuffled epoch through the loader alone, each batch in its own dispose scope.</summary>
    private static double LoaderRate(BenchData data, int batchSize, int prefetch)
    {
        var loader = new TensorDataLoader(data.X, data.Y, batchSize, shuffle: true, seed: 3) { Prefetch = prefetch };
        long samples = 0;
        var sw = Stopwatch.StartNew();
        using var e = loader.GetEnumerator();
        while (true)
        {
            using var scope = NewDisposeScope();
            if (!e.MoveNext()) break;
            samples += e.Current.X.shape[0];
        }
        return samples / sw.Elapsed.TotalSeconds;
    }

    /// <summary>Samples/s of the trainer over <paramref name="steps"/> steps (after 10 warm-up steps).</summary>
    private static double ModelRate(BenchData data, TrainerOptions options, int batchSize, Func<ILightningModule<(Tensor X, Tensor Y)>> create, int steps)
    {
        var loader = new TensorDataLoader(data.X, data.Y, batchSize, shuffle: true, seed: 3);
        var warm = new Trainer(options with { MaxSteps = 10, MaxEpochs = -1 });
        warm.Fit(create(), loader);
        var trainer = new Trainer(options with { MaxSteps = steps, MaxEpochs = -1 });
        var model = create();
        var sw = Stopwatch.StartNew();
        trainer.Fit(model, loader);
        return steps * (double)batchSize / sw.Elapsed.TotalSeconds;
    }
}
