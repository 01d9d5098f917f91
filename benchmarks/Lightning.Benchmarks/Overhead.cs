using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Lightning.Benchmarks;

/// <summary>
/// Where the trainer's per-step cost beyond the hand loop goes (<c>--overhead</c>): the tiny MLP, whose step is
/// short enough for microseconds to show, run as the hand loop with the generated loop's extra calls added one
/// group at a time, alternating with the trainer; then each group timed alone in a tight loop.
/// </summary>
public static class Overhead
{
    private static readonly string[] Variants = ["hand", "hand+transfer", "hand+log", "hand+both", "trainer"];

    public static void Run(BenchData data, int steps, int rounds, TrainerOptions options, TextWriter log)
    {
        const int bs = 64;
        var models = new Dictionary<string, Module<Tensor, Tensor>>();
        foreach (var v in Variants)
        {
            torch.manual_seed(1);
            models[v] = new TinyMlp();
            if (v != "trainer") ((ILightningModule)models[v]).RegisterComponentsOnce();
        }
        var clock = new StepClock(steps + 1);
        var times = Variants.ToDictionary(v => v, _ => new List<double>());
        var stores = Variants.ToDictionary(v => v, _ => new MetricStore("loss"));
        for (int r = -1; r < rounds; r++)   // round -1: warm-up
        {
            for (int k = 0; k < Variants.Length; k++)
            {
                var v = Variants[(k + Math.Max(r, 0)) % Variants.Length];
                var run = v == "trainer"
                    ? Loops.Trainer((ILightningModule<(Tensor X, Tensor Y)>)models[v], data, 0, steps, bs, clock, options)
                    : HandWithExtras(models[v], data, 0, steps, bs, clock,
                        transfer: v is "hand+transfer" or "hand+both", store: v is "hand+log" or "hand+both" ? stores[v] : null);
                if (r >= 0) times[v].AddRange(run.StepsMs);
            }
        }
        double hand = Stats.Median(times["hand"]);
        log.WriteLine($"overhead (tiny MLP, batch {bs}, {rounds} rounds x {steps} steps, variants rotating; median us/step and difference from the hand loop):");
        foreach (var v in Variants)
        {
            double m = Stats.Median(times[v]);
            log.WriteLine($"  {v,-14} {Stats.F(m * 1000, "0.0"),8} us/step  {Stats.F((m - hand) * 1000, "+0.0;-0.0"),7} us");
        }

        // Each extra call group alone, in a tight loop with one dispose scope per iteration (as per step).
        log.WriteLine("overhead micro-timings (median of 7 batches of 20000 iterations, each in its own dispose scope; ns/iteration):");
        var cpu = torch.CPU;
        using var x = torch.randn(bs, 1, 28, 28);
        using var y = torch.randint(0, 10, [bs], dtype: ScalarType.Int64);
        using var scalar = torch.tensor(0.5f);
        var store = new MetricStore("loss");
        store.BeginRun(Stage.Fit, training: true);
        var sum = torch.zeros(Array.Empty<long>(), ScalarType.Float64);
        using var alpha = 64L.ToScalar();
        var cases = new (string Name, Action Body)[]
        {
            ("empty scope", () => { }),
            ("x.to(cpu), y.to(cpu), size(0)", () => { x.to(cpu); y.to(cpu); _ = x.size(0); }),
            ("MetricStore BeginStep + Log(tensor)", () => { store.BeginStep(bs); store.Log(0, "loss", scalar, false); }),
            ("  of which sum.add_(v.detach(), alpha)", () => { sum.add_(scalar.detach(), alpha); }),
            ("  of which numel, dim, device checks", () => { _ = scalar.numel(); _ = scalar.dim(); _ = scalar.device_type; _ = scalar.device_index; _ = sum.device_type; _ = sum.device_index; }),
        };
        foreach (var (name, body) in cases)
        {
            var batches = new List<double>();
            for (int b = 0; b < 8; b++)
            {
                long t0 = Stopwatch.GetTimestamp();
                for (int i = 0; i < 20000; i++)
                {
                    using var scope = torch.NewDisposeScope();
                    body();
                }
                double ns = (Stopwatch.GetTimestamp() - t0) * 1e9 / Stopwatch.Frequency / 20000;
                if (b > 0) batches.Add(ns);   // the first batch warms up
            }
            log.WriteLine($"  {name,-40} {Stats.F(Stats.Median(batches), "0"),7} ns");
        }
        sum.Dispose();
        foreach (var m in models.Values) m.Dispose();
        log.Flush();
    }

    /// <summary>
    /// <see cref="Loops.Hand"/> plus, optionally, what the generated loop adds per step: moving the batch to the
    /// device and reading its size (<c>transfer</c>), and logging the loss into a <see cref="MetricStore"/> (<c>store</c>).
    /// </summary>
    private static Run HandWithExtras(Module<Tensor, Tensor> module, BenchData data, long firstStep, int steps, int batchSize,
        StepClock clock, bool transfer, MetricStore? store)
    {
        long batchesPerEpoch = data.Samples / batchSize;
        var forward = (IBenchModule)module;
        var device = torch.CPU;
        store?.BeginRun(Stage.Fit, training: true);
        clock.Reset();
        long t0 = Stopwatch.GetTimestamp();
        var optimizer = torch.optim.Adam(module.parameters(), lr: 1e-3);
        module.train();
        for (int i = 0; i < steps; i++)
        {
            using var scope = torch.NewDisposeScope();
            var (x, y) = data.Batch(firstStep + i, batchSize, batchesPerEpoch);
            long size = 0;
            if (transfer)
            {
                (x, y) = (x.to(device), y.to(device));
                size = x.size(0);
            }
            store?.BeginStep(transfer ? size : batchSize);
            clock.Mark();
            var loss = functional.cross_entropy(forward.Forward(x), y);
            store?.Log(0, "loss", loss, false);
            optimizer.zero_grad();
            loss.backward();
            optimizer.step();
        }
        clock.MarkEnd();
        long t1 = Stopwatch.GetTimestamp();
        return new Run(clock.IntervalsMs(), (t1 - t0) * 1000.0 / Stopwatch.Frequency,
            (clock[0] - t0) * 1000.0 / Stopwatch.Frequency, (t1 - clock.End) * 1000.0 / Stopwatch.Frequency);
    }
}
