using System;
using TorchSharp;

namespace Lightning;

/// <summary>When a learning-rate scheduler steps (Lightning's <c>interval</c>).</summary>
public enum SchedulerInterval
{
    /// <summary>After every <see cref="Optimization.Frequency"/> training epochs (after <c>OnTrainEpochEnd</c>).</summary>
    Epoch,
    /// <summary>After every <see cref="Optimization.Frequency"/> optimizer steps.</summary>
    Step,
}

public static partial class LightningSpelling
{
    // Lightning: lr_scheduler_config "interval": "epoch" or "step" (LRSchedulerConfig, src/lightning/pytorch/utilities/types.py).
    private static readonly Spelling<SchedulerInterval> SchedulerIntervals =
        new(new[] { (SchedulerInterval.Epoch, "epoch"), (SchedulerInterval.Step, "step") });

    /// <summary>Lightning's spelling: <c>"epoch"</c> or <c>"step"</c>.</summary>
    public static string ToLightningString(this SchedulerInterval interval) => SchedulerIntervals.Format(interval);

    /// <summary>Reads Lightning's <c>"epoch"</c> or <c>"step"</c>.</summary>
    public static bool TryParse(string? text, out SchedulerInterval interval) => SchedulerIntervals.TryParse(text, out interval);
}

/// <summary>
/// What a <c>[ConfigureOptimizers]</c> method returns: an optimizer, optionally with a learning-rate scheduler and
/// Lightning's <c>lr_scheduler_config</c> (<see cref="Interval"/>, <see cref="Frequency"/>, <see cref="Monitor"/>).
/// A bare optimizer converts implicitly, so the method may simply return <c>optim.Adam(...)</c>:
/// <code>
/// var adam = optim.Adam(parameters(), lr);
/// return new Optimization(adam, optim.lr_scheduler.ReduceLROnPlateau(adam)) { Monitor = "val_loss" };
/// </code>
/// </summary>
public sealed record Optimization(torch.optim.Optimizer Optimizer, torch.optim.lr_scheduler.LRScheduler? Scheduler = null)
{
    /// <summary>Step the scheduler per epoch (default) or per optimizer step.</summary>
    public SchedulerInterval Interval { get; init; } = SchedulerInterval.Epoch;

    /// <summary>Step the scheduler every this many epochs or optimizer steps.</summary>
    public int Frequency { get; init; } = 1;

    /// <summary>
    /// The logged metric a <c>ReduceLROnPlateau</c> scheduler watches (required for it, e.g. <c>"val_loss"</c>);
    /// other schedulers ignore it.
    /// </summary>
    public string? Monitor { get; init; }

    /// <summary>The optimizer alone.</summary>
    public static implicit operator Optimization(torch.optim.Optimizer optimizer) =>
        new(optimizer ?? throw new ArgumentNullException(nameof(optimizer)));
}
