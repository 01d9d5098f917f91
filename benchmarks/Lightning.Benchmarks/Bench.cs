using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Lightning.Benchmarks;

/// <summary>One timed run of N steps: the step cycles, and the time outside them.</summary>
/// <param name="StepsMs">Milliseconds between the starts of consecutive steps (N - 1 full cycles).</param>
/// <param name="WallMs">The whole run: for the trainer, <c>Fit</c>; for the hand loop, optimizer creation and the loop.</param>
/// <param name="BeforeFirstMs">From the run's start to the first step's forward pass (set-up and the first batch).</param>
/// <param name="AfterLastMs">From the end of the last step (its dispose scope closed) to the run's end: tear-down.</param>
public sealed record Run(double[] StepsMs, double WallMs, double BeforeFirstMs, double AfterLastMs)
{
    public double MedianMs => Stats.Median(StepsMs);

    /// <summary>Time of the run outside its steps: set-up (with the first batch) before the first step, and tear-down after the last.</summary>
    public double FixedMs => BeforeFirstMs + AfterLastMs;
}

public static class Stats
{
    public static double Median(IReadOnlyList<double> values) => Quantile(values, 0.5);

    public static double Quantile(IReadOnlyList<double> values, double q)
    {
        if (values.Count == 0) return double.NaN;
        var sorted = values.OrderBy(v => v).ToArray();
        double pos = q * (sorted.Length - 1);
        int lo = (int)Math.Floor(pos), hi = (int)Math.Ceiling(pos);
        return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
    }

    public static string Ms(double ms) => ms.ToString(Math.Abs(ms) >= 10 ? "0.00" : "0.000", CultureInfo.InvariantCulture);

    public static string F(double v, string format) => v.ToString(format, CultureInfo.InvariantCulture);

    /// <summary>Resident and peak resident memory of this process in MB (Linux), or NaN.</summary>
    public static (double Rss, double Peak) MemoryMb()
    {
        try
        {
            double rss = double.NaN, peak = double.NaN;
            foreach (var line in File.ReadLines("/proc/self/status"))
            {
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal)) rss = Kb(line) / 1024;
                else if (line.StartsWith("VmHWM:", StringComparison.Ordinal)) peak = Kb(line) / 1024;
            }
            return (rss, peak);
        }
        catch (IOException) { return (double.NaN, double.NaN); }

        static double Kb(string line) => double.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
    }
}

/// <summary>The two loops under test, over the same batches.</summary>
public static class Loops
{
    /// <summary>
    /// The hand-written TorchSharp loop: per step a dispose scope, the batch by index_select, forward,
    /// cross-entropy, zero_grad, backward, step. Its optimizer is created at the start of the run, as the
    /// trainer calls [ConfigureOptimizers] at the start of each Fit.
    /// </summary>
    public static Run Hand(Module<Tensor, Tensor> module, BenchData data, long firstStep, int steps, int batchSize, StepClock clock)
    {
        long batchesPerEpoch = data.Samples / batchSize;
        var forward = (IBenchModule)module;
        clock.Reset();
        long t0 = Stopwatch.GetTimestamp();
        var optimizer = torch.optim.Adam(module.parameters(), lr: 1e-3);
        module.train();
        for (int i = 0; i < steps; i++)
        {
            using var scope = torch.NewDisposeScope();
            var (x, y) = data.Batch(firstStep + i, batchSize, batchesPerEpoch);
            clock.Mark();
            var loss = functional.cross_entropy(forward.Forward(x), y);
            optimizer.zero_grad();
            loss.backward();
            optimizer.step();
        }
        clock.MarkEnd();
        long t1 = Stopwatch.GetTimestamp();
        return Finish(clock, t0, t1);
    }

    /// <summary>The generated trainer: one <c>Fit</c> over a loader of exactly <paramref name="steps"/> batches.</summary>
    public static Run Trainer(ILightningModule<(Tensor X, Tensor Y)> model, BenchData data, long firstStep, int steps, int batchSize,
        StepClock clock, TrainerOptions options)
    {
        var trainer = new Trainer(options with { MaxSteps = steps });
        var loader = new StepBatches(data, firstStep, steps, batchSize, clock);
        var bench = (IBenchModule)model;
        clock.Reset();
        bench.Clock = clock;
        long t0 = Stopwatch.GetTimestamp();
        trainer.Fit(model, loader);
        long t1 = Stopwatch.GetTimestamp();
        bench.Clock = null;
        if (trainer.GlobalStep != steps) throw new InvalidOperationException($"Fit ran {trainer.GlobalStep} steps, expected {steps}.");
        return Finish(clock, t0, t1);
    }

    private static Run Finish(StepClock clock, long t0, long t1)
    {
        static double Ms(long ticks) => ticks * 1000.0 / Stopwatch.Frequency;
        if (clock.Count == 0 || clock.End == 0) throw new InvalidOperationException("the step clock was not marked");
        return new Run(clock.IntervalsMs(), Ms(t1 - t0), Ms(clock[0] - t0), Ms(t1 - clock.End));
    }

    /// <summary>Largest absolute difference between the parameters of two modules of the same class.</summary>
    public static double MaxParameterDifference(Module a, Module b)
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        double max = 0;
        foreach (var (pa, pb) in a.parameters().Zip(b.parameters()))
            max = Math.Max(max, (pa - pb).abs().max().ToDouble());
        return max;
    }
}

/// <summary>A comparison of the hand loop and the trainer on one model and batch size, alternating in rounds.</summary>
public sealed class Comparison(string name, Func<Module<Tensor, Tensor>> create, int batchSize, int steps, int rounds, int warmupSteps,
    BenchData data, TrainerOptions options, bool control = false)
{
    public string Name => name;

    public double HandMedianMs { get; private set; }

    public double TrainerMedianMs { get; private set; }

    public double Ratio => TrainerMedianMs / HandMedianMs;

    public List<double> RoundRatios { get; } = new();

    public double ControlMedianMs { get; private set; } = double.NaN;

    public List<double> ControlRoundRatios { get; } = new();

    public double HandBeforeMs { get; private set; }

    public double TrainerBeforeMs { get; private set; }

    public double HandAfterMs { get; private set; }

    public double TrainerAfterMs { get; private set; }

    public double HandFixedMs { get; private set; }

    public double TrainerFixedMs { get; private set; }

    public double HandWallPerStepMs { get; private set; }

    public double TrainerWallPerStepMs { get; private set; }

    public double MaxParameterDifference { get; private set; }

    public void Run(TextWriter log)
    {
        torch.manual_seed(1);
        var hand = create();
        ((ILightningModule)hand).RegisterComponentsOnce();
        torch.manual_seed(1);
        var model = create();
        var lightning = (ILightningModule<(Tensor X, Tensor Y)>)model;
        var clock = new StepClock(steps + 1);

        // Warm-up (not recorded): JIT, the allocator's heap, oneDNN's primitive caches, on both sides.
        long step = 0;
        Loops.Hand(hand, data, step, warmupSteps, batchSize, clock);
        Loops.Trainer(lightning, data, step, warmupSteps, batchSize, clock, options);
        step += warmupSteps;

        // With a control, a second hand loop (a third copy of the model) runs in every round too: hand2/hand is
        // an A/A ratio, the noise floor of the machine for this configuration.
        Module<Tensor, Tensor>? hand2 = null;
        if (control)
        {
            torch.manual_seed(1);
            hand2 = create();
            ((ILightningModule)hand2).RegisterComponentsOnce();
            Loops.Hand(hand2, data, 0, warmupSteps, batchSize, clock);
        }

        var handRuns = new List<Run>();
        var trainerRuns = new List<Run>();
        var controlRuns = new List<Run>();
        for (int r = 0; r < rounds; r++)
        {
            // Which side goes first alternates (with a control, the three arms rotate).
            var order = control ? new[] { "hand", "trainer", "hand2", "hand", "trainer" }.Skip(r % 3).Take(3).ToArray()
                : r % 2 == 0 ? new[] { "hand", "trainer" } : new[] { "trainer", "hand" };
            Run h = null!, t = null!, c = null!;
            foreach (var arm in order)
            {
                switch (arm)
                {
                    case "hand": h = Loops.Hand(hand, data, step, steps, batchSize, clock); break;
                    case "trainer": t = Loops.Trainer(lightning, data, step, steps, batchSize, clock, options); break;
                    default: c = Loops.Hand(hand2!, data, step, steps, batchSize, clock); break;
                }
            }
            step += steps;
            handRuns.Add(h);
            trainerRuns.Add(t);
            double diff = Loops.MaxParameterDifference(hand, model);
            MaxParameterDifference = Math.Max(MaxParameterDifference, diff);
            RoundRatios.Add(t.MedianMs / h.MedianMs);
            string controlText = "";
            if (control)
            {
                controlRuns.Add(c);
                ControlRoundRatios.Add(c.MedianMs / h.MedianMs);
                controlText = $" control hand2 {Stats.Ms(c.MedianMs)} (hand2/hand {Stats.F(c.MedianMs / h.MedianMs, "0.000")});";
            }
            log.WriteLine($"{name} round {r + 1}/{rounds} ({string.Join(", ", order)}): " +
                $"hand {Stats.Ms(h.MedianMs)} trainer {Stats.Ms(t.MedianMs)} ms/step ratio {Stats.F(t.MedianMs / h.MedianMs, "0.000")};{controlText} " +
                $"fixed per run hand {Stats.Ms(h.FixedMs)} ms trainer {Stats.Ms(t.FixedMs)} ms; max |param diff| {diff:G3}");
            log.Flush();
        }

        if (control) ControlMedianMs = Stats.Median(controlRuns.SelectMany(r => r.StepsMs).ToList());
        hand2?.Dispose();
        HandMedianMs = Stats.Median(handRuns.SelectMany(r => r.StepsMs).ToList());
        TrainerMedianMs = Stats.Median(trainerRuns.SelectMany(r => r.StepsMs).ToList());
        HandBeforeMs = Stats.Median(handRuns.Select(r => r.BeforeFirstMs).ToList());
        TrainerBeforeMs = Stats.Median(trainerRuns.Select(r => r.BeforeFirstMs).ToList());
        HandAfterMs = Stats.Median(handRuns.Select(r => r.AfterLastMs).ToList());
        TrainerAfterMs = Stats.Median(trainerRuns.Select(r => r.AfterLastMs).ToList());
        HandFixedMs = Stats.Median(handRuns.Select(r => r.FixedMs).ToList());
        TrainerFixedMs = Stats.Median(trainerRuns.Select(r => r.FixedMs).ToList());
        HandWallPerStepMs = Stats.Median(handRuns.Select(r => r.WallMs / steps).ToList());
        TrainerWallPerStepMs = Stats.Median(trainerRuns.Select(r => r.WallMs / steps).ToList());
        hand.Dispose();
        model.Dispose();
    }

    public void Report(TextWriter log)
    {
        int measured = rounds * (steps - 1);
        log.WriteLine($"{name} hand {Stats.Ms(HandMedianMs)} ms/step trainer {Stats.Ms(TrainerMedianMs)} ms/step ratio {Stats.F(Ratio, "0.000")}" +
            $"  (medians of {measured} steps each; trainer - hand = {Stats.F((TrainerMedianMs - HandMedianMs) * 1000, "0")} us/step)");
        log.WriteLine($"{name} per-round ratios: median {Stats.F(Stats.Median(RoundRatios), "0.000")} min {Stats.F(RoundRatios.Min(), "0.000")} max {Stats.F(RoundRatios.Max(), "0.000")}");
        if (control)
            log.WriteLine($"{name} control (A/A, a second hand loop): hand2 {Stats.Ms(ControlMedianMs)} ms/step, hand2/hand {Stats.F(ControlMedianMs / HandMedianMs, "0.000")}; " +
                $"per-round hand2/hand: median {Stats.F(Stats.Median(ControlRoundRatios), "0.000")} min {Stats.F(ControlRoundRatios.Min(), "0.000")} max {Stats.F(ControlRoundRatios.Max(), "0.000")}");
        log.WriteLine($"{name} wall per step incl. fixed costs ({steps} steps/run): hand {Stats.Ms(HandWallPerStepMs)} trainer {Stats.Ms(TrainerWallPerStepMs)} ratio {Stats.F(TrainerWallPerStepMs / HandWallPerStepMs, "0.000")}");
        log.WriteLine($"{name} fixed cost per run (medians): hand {Stats.Ms(HandFixedMs)} ms (set-up {Stats.Ms(HandBeforeMs)}, tear-down {Stats.Ms(HandAfterMs)}) " +
            $"trainer Fit {Stats.Ms(TrainerFixedMs)} ms (set-up {Stats.Ms(TrainerBeforeMs)}, tear-down {Stats.Ms(TrainerAfterMs)}) => Fit overhead {Stats.Ms(TrainerFixedMs - HandFixedMs)} ms per Fit");
        log.WriteLine($"{name} same batches, same seed: parameters after every round {(MaxParameterDifference == 0 ? "bit-identical" : $"differ by up to {MaxParameterDifference:G3}")}");
        var (rss, peak) = Stats.MemoryMb();
        log.WriteLine($"{name} process memory: rss {Stats.F(rss, "0")} MB peak {Stats.F(peak, "0")} MB");
        log.Flush();
    }
}
