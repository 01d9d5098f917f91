using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using Lightning.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace Lightning.Benchmarks;

/// <summary>
/// Flat memory: the process's resident set (VmRSS) after 100 training steps of the generated trainer and after
/// <c>steps</c> steps, in one fit over shuffled batches (several epochs), for the tiny MLP and the seed CNN.
/// Goal: RSS at the end within 5% of RSS at step 100.
/// </summary>
public static class MemoryBench
{
    public static int Run(BenchData data, TrainerOptions options, int steps, TextWriter output)
    {
        output.WriteLine($"RSS after 100 and after {steps} training steps (batch 64, {data.Description})");
        foreach (var (name, create, count) in new (string, Func<ILightningModule<(Tensor X, Tensor Y)>>, int)[]
                 {
                     ("mlp_b64", () => new TinyMlp(), steps),
                     ("cnn_b64", () => new SeedCnn(), Math.Max(200, steps / 4)),
                 })
        {
            var probe = new RssProbe(new long[] { 100, count / 4, count / 2, 3 * count / 4, count });
            var trainer = new Trainer(options with { MaxSteps = count, MaxEpochs = -1, Callbacks = new ICallback[] { probe } });
            var loader = new TensorDataLoader(data.X, data.Y, 64, shuffle: true, seed: 1);
            trainer.Fit(create(), loader);
            double ratio = probe.At[count] / probe.At[100];
            output.WriteLine($"{name}: RSS at step 100 {Mb(probe.At[100])} MB, at step {count} {Mb(probe.At[count])} MB, ratio {ratio.ToString("0.000", CultureInfo.InvariantCulture)}" +
                (ratio <= 1.05 ? "  (within 5%)" : "  (ABOVE 5%)") + $"; live tensors {probe.Tensors[100]} -> {probe.Tensors[count]}; " +
                "trajectory " + string.Join(", ", probe.At.OrderBy(kv => kv.Key).Select(kv => $"{kv.Key}: {Mb(kv.Value)}")));
        }
        return 0;
    }

    private static string Mb(double kb) => (kb / 1024).ToString("0.0", CultureInfo.InvariantCulture);

    /// <summary>VmRSS of this process, in kB.</summary>
    public static double RssKb()
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                return double.Parse(line["VmRSS:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
        throw new InvalidOperationException("/proc/self/status has no VmRSS line.");
    }

    private sealed class RssProbe(long[] steps) : Callback
    {
        public Dictionary<long, double> At { get; } = new();
        public Dictionary<long, long> Tensors { get; } = new();

        public override void OnTrainBatchEnd(Trainer trainer, ILightningModule module, Tensor? loss, long batchIdx)
        {
            if (!steps.Contains(trainer.GlobalStep) || At.ContainsKey(trainer.GlobalStep)) return;
            GC.Collect();
            GC.WaitForPendingFinalizers();
            At[trainer.GlobalStep] = RssKb();
            Tensors[trainer.GlobalStep] = Tensor.TotalCount;
        }
    }
}
