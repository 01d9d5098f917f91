using System;
using TorchSharp;

namespace Lightning;

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
    public Interval Interval { get; init; } = Interval.Epoch;

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
