using System;
using TorchSharp;

namespace Lightning.Callbacks;

/// <summary>
/// Stops training at the first training step whose loss is NaN or infinite, as Ignite's <c>TerminateOnNan</c>.
/// Checking reads the loss on the host, so it waits for the device once every <see cref="CheckEveryNSteps"/> batches.
/// </summary>
public sealed class TerminateOnNan : Callback
{
    /// <summary>Check every n training batches (1: every batch, as Ignite).</summary>
    public int CheckEveryNSteps { get; init; } = 1;

    /// <summary>The batch index (within its epoch) and epoch of the non-finite loss, or null.</summary>
    public (int Epoch, long BatchIdx)? StoppedAt { get; private set; }

    public override void OnFitStart(Trainer trainer, ILightningModule module)
    {
        if (CheckEveryNSteps < 1) throw new LightningException($"TerminateOnNan.CheckEveryNSteps is {CheckEveryNSteps}: expected 1 or more.");
        StoppedAt = null;
    }

    public override void OnTrainBatchEnd(Trainer trainer, ILightningModule module, torch.Tensor? loss, long batchIdx)
    {
        if (loss is null || trainer.Iteration % CheckEveryNSteps != 0) return;
        using var finite = loss.detach().isfinite().all();
        Diagnostics.HostSync.Record();
        if (finite.item<bool>()) return;
        StoppedAt = (trainer.CurrentEpoch, batchIdx);
        trainer.Output.WriteLine($"TerminateOnNan: the loss of epoch {trainer.CurrentEpoch}, batch {batchIdx} is not finite; stopping.");
        trainer.ShouldStop = true;
    }
}
