using System;
using TorchSharp;

namespace Lightning;

/// <summary>
/// What a <c>[ConfigureOptimizers]</c> method returns: an optimizer, optionally with a learning-rate scheduler
/// stepped every epoch. A bare optimizer converts implicitly, so the method may simply return <c>optim.Adam(...)</c>.
/// </summary>
public sealed record Optimization(torch.optim.Optimizer Optimizer, torch.optim.lr_scheduler.LRScheduler? Scheduler = null)
{
    /// <summary>The optimizer alone.</summary>
    public static implicit operator Optimization(torch.optim.Optimizer optimizer) =>
        new(optimizer ?? throw new ArgumentNullException(nameof(optimizer)));
}
