namespace Lightning;

/// <summary>
/// How often something acts: after every training batch (optimizer step) or after every epoch, as Lightning's <c>Interval</c>
/// enum (src/lightning/pytorch/callbacks/timer.py), <c>LearningRateMonitor(logging_interval=...)</c> and a learning-rate
/// scheduler's <c>lr_scheduler_config["interval"]</c> (<see cref="Optimization.Interval"/>, with its <see cref="Optimization.Frequency"/>).
/// </summary>
public enum Interval
{
    /// <summary><c>"step"</c>: after every training batch.</summary>
    Step,
    /// <summary><c>"epoch"</c>: once per epoch.</summary>
    Epoch,
}

public static partial class LightningSpelling
{
    // Lightning: class Interval(LightningEnum): step = "step"; epoch = "epoch" (src/lightning/pytorch/callbacks/timer.py); the same
    // two words are lr_scheduler_config's "interval" (LRSchedulerConfig, src/lightning/pytorch/utilities/types.py).
    private static readonly Spelling<Interval> Intervals = new(new[] { (Interval.Step, "step"), (Interval.Epoch, "epoch") });

    /// <summary>Lightning's spelling: <c>"step"</c> or <c>"epoch"</c>.</summary>
    public static string ToLightningString(this Interval interval) => Intervals.Format(interval);

    /// <summary>Reads Lightning's <c>"step"</c> or <c>"epoch"</c>.</summary>
    public static bool TryParse(string? text, out Interval interval) => Intervals.TryParse(text, out interval);
}
