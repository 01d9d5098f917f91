using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Lightning.Benchmarks;

/// <summary>
/// <c>--profiler</c>: the trainer with <see cref="TrainerOptions.Profiler"/> = Simple against the same trainer with it off, on the
/// same model, seed and batches, alternating in one process (with <c>--control</c> a second profiler-off arm on a third model copy
/// gives the A/A noise floor). The step cycle (one training-step entry to the next) holds every profiled per-batch action: fetch,
/// transfer, step, backward, optimizer step, zero_grad and the timed callback hooks. Both arms have two callbacks (EarlyStopping,
/// and the Timer of MaxTime, checked after each batch), so the profiled arm times their hooks as a real fit's. Goal: on / off <= 1.03.
/// </summary>
public static class ProfilerBench
{
    public static void Run(string name, Func<Module<Tensor, Tensor>> create, BenchData data, int batchSize, int steps, int rounds, int warmup,
        TrainerOptions options, bool control, TextWriter log)
    {
        var root = Directory.CreateTempSubdirectory("lightning-profiler-bench-").FullName;   // each profiled Fit writes profile.csv
        try
        {
            var arms = control ? new[] { "off", "on", "off2" } : new[] { "off", "on" };
            var models = new Dictionary<string, ILightningModule<(Tensor X, Tensor Y)>>();
            foreach (var arm in arms)
            {
                torch.manual_seed(1);
                models[arm] = (ILightningModule<(Tensor X, Tensor Y)>)create();
            }
            TrainerOptions For(string arm) => options with
            {
                Profiler = arm == "on" ? ProfilerKind.Simple : ProfilerKind.None,
                Output = TextWriter.Null,
                DefaultRootDir = root,
                MaxTime = TimeSpan.FromDays(1),
                Callbacks = new ICallback[] { new Callbacks.EarlyStopping { Monitor = "loss", Patience = 1000 } },
            };
            var clock = new StepClock(steps + 1);
            long step = 0;
            foreach (var arm in arms) Loops.Trainer(models[arm], data, 0, warmup, batchSize, clock, For(arm));
            step += warmup;
            var times = arms.ToDictionary(a => a, _ => new List<double>());
            var ratios = new List<double>();
            var controlRatios = new List<double>();
            for (int r = 0; r < rounds; r++)
            {
                var order = arms.Skip(r % arms.Length).Concat(arms.Take(r % arms.Length)).ToArray();
                var medians = new Dictionary<string, double>();
                foreach (var arm in order)
                {
                    var run = Loops.Trainer(models[arm], data, step, steps, batchSize, clock, For(arm));
                    times[arm].AddRange(run.StepsMs);
                    medians[arm] = run.MedianMs;
                }
                step += steps;
                ratios.Add(medians["on"] / medians["off"]);
                if (control) controlRatios.Add(medians["off2"] / medians["off"]);
                double diff = Loops.MaxParameterDifference((Module)models["off"], (Module)models["on"]);
                log.WriteLine($"{name} profiler round {r + 1}/{rounds} ({string.Join(", ", order)}): off {Stats.Ms(medians["off"])} on {Stats.Ms(medians["on"])} ms/step " +
                    $"ratio on/off {Stats.F(ratios[^1], "0.000")}" + (control ? $"; A/A off2/off {Stats.F(controlRatios[^1], "0.000")}" : "") +
                    $"; max |param diff| off vs on {diff:G3}");
                log.Flush();
            }
            double off = Stats.Median(times["off"]), on = Stats.Median(times["on"]);
            log.WriteLine($"{name} profiler: off {Stats.Ms(off)} ms/step on {Stats.Ms(on)} ms/step ratio on/off {Stats.F(on / off, "0.000")} " +
                $"(on - off {Stats.F((on - off) * 1000, "0.0")} us/step; medians of {rounds * (steps - 1)} steps each; per-round ratios median " +
                $"{Stats.F(Stats.Median(ratios), "0.000")} min {Stats.F(ratios.Min(), "0.000")} max {Stats.F(ratios.Max(), "0.000")})" +
                (control ? $"; A/A off2/off {Stats.F(Stats.Median(times["off2"]) / off, "0.000")} (per-round median {Stats.F(Stats.Median(controlRatios), "0.000")})" : "") +
                (on / off <= 1.03 ? "  meets <= 1.03" : "  ABOVE 1.03"));
            log.Flush();
            foreach (var m in models.Values) ((Module)m).Dispose();
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}
