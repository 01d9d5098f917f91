namespace Lightning.Checkpoints;

/// <summary>
/// Where a fit was when a checkpoint was written, as read (and checked) from its metadata; see
/// <see cref="Checkpoint.ReadPosition"/>.
/// </summary>
/// <param name="Epoch">The epoch, from 0.</param>
/// <param name="GlobalStep">Optimizer steps taken in the fit.</param>
/// <param name="BatchInEpoch">Training batches of <paramref name="Epoch"/> that had run.</param>
/// <param name="EpochFinished">All of the epoch's training batches had run.</param>
/// <param name="EpochEndDone">The epoch's end (callbacks, scheduler step) had run.</param>
/// <param name="Iteration">Training batches run in the whole fit.</param>
public sealed record LoopPosition(int Epoch, long GlobalStep, long BatchInEpoch, bool EpochFinished, bool EpochEndDone, long Iteration)
{
    /// <summary>Epochs whose end (callbacks, scheduler step) had run.</summary>
    public long EpochsEnded => EpochEndDone ? Epoch + 1L : Epoch;
}
