using Lightning.Checkpoints;

namespace Lightning.Loops;

/// <summary>
/// Where a fit is: the one record the fit loop advances, callbacks read (through <see cref="Trainer"/>'s properties) and
/// a checkpoint saves (<see cref="Position"/>), as Lightning's <c>loops/progress.py</c> counters.
/// </summary>
public sealed class FitProgress
{
    /// <summary>The epoch running (or last run), from 0.</summary>
    public int Epoch { get; internal set; }

    /// <summary>Training batches of <see cref="Epoch"/> that have run, counting those before a resume.</summary>
    public long BatchInEpoch { get; internal set; }

    /// <summary>Optimizer steps taken in the fit (Lightning's <c>global_step</c>).</summary>
    public long GlobalStep { get; internal set; }

    /// <summary>Training batches run in the whole fit, across epochs (Ignite's iteration count).</summary>
    public long Iteration { get; internal set; }

    /// <summary>All of the epoch's training batches have run.</summary>
    public bool EpochFinished { get; internal set; }

    /// <summary>The epoch's end (callbacks, scheduler step) has run.</summary>
    public bool EpochEndDone { get; internal set; }

    /// <summary>A validation run (not the sanity check) has finished in this fit.</summary>
    public bool HasValidated { get; internal set; }

    /// <summary>The current epoch has run a validation.</summary>
    public bool EpochValidated { get; internal set; }

    /// <summary>A stop was asked (Lightning's <c>trainer.should_stop</c>); it takes effect at the next batch once MinEpochs/MinSteps allow.</summary>
    public bool ShouldStop { get; set; }

    /// <summary>The position a checkpoint written now records.</summary>
    public LoopPosition Position => new(Epoch, GlobalStep, BatchInEpoch, EpochFinished, EpochEndDone, Iteration);

    /// <summary>Continues from a checkpoint's position: the counters, and the epoch it was in.</summary>
    internal void ResumeAt(LoopPosition position)
    {
        Epoch = position.Epoch;
        GlobalStep = position.GlobalStep;
        Iteration = position.Iteration;
    }

    /// <summary>A new epoch begins at batch <paramref name="firstBatch"/> (0, or where a resume left it).</summary>
    internal void StartEpoch(int epoch, long firstBatch)
    {
        Epoch = epoch;
        BatchInEpoch = firstBatch;
        EpochFinished = false;
        EpochEndDone = false;
        EpochValidated = false;
    }
}
