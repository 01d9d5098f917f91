using System;
using System.IO;

namespace Lightning;

/// <summary>
/// The trainer's settings, named and defaulted as PyTorch Lightning's <c>Trainer</c> flags
/// (<c>max_epochs</c> is <see cref="MaxEpochs"/>, and so on).
/// </summary>
public sealed record TrainerOptions
{
    /// <summary>Stop after this many epochs. When neither this nor <see cref="MaxSteps"/> is set, 1000 (as Lightning).</summary>
    public int? MaxEpochs { get; init; }

    /// <summary>Stop after this many optimizer steps; -1 for no limit.</summary>
    public long MaxSteps { get; init; } = -1;

    /// <summary>How many training batches each epoch uses (a count or a fraction).</summary>
    public BatchLimit LimitTrainBatches { get; init; } = BatchLimit.All;

    /// <summary>How many validation batches each validation run uses.</summary>
    public BatchLimit LimitValBatches { get; init; } = BatchLimit.All;

    /// <summary>How many test batches a test run uses.</summary>
    public BatchLimit LimitTestBatches { get; init; } = BatchLimit.All;

    /// <summary>How many batches a prediction run uses.</summary>
    public BatchLimit LimitPredictBatches { get; init; } = BatchLimit.All;

    /// <summary>
    /// A smoke test: when n &gt; 0, run n training and n validation batches for one epoch (and n batches in
    /// test and predict), without sanity check. 0 turns it off.
    /// </summary>
    public int FastDevRun { get; init; }

    /// <summary>
    /// Accumulate gradients over this many batches before each optimizer step (the loss is divided by it, so k
    /// batches of size b step like one batch of size k*b). The last batches of an epoch step even when fewer.
    /// </summary>
    public int AccumulateGradBatches { get; init; } = 1;

    /// <summary>Clip gradients before each optimizer step: the maximum norm, or value, per <see cref="GradientClipAlgorithm"/>; null for none.</summary>
    public double? GradientClipVal { get; init; }

    /// <summary>"norm" (the total 2-norm of all gradients, default) or "value" (each element).</summary>
    public string GradientClipAlgorithm { get; init; } = "norm";

    /// <summary>Validation batches run before training starts, to find bugs in the validation step early; -1 for all.</summary>
    public int NumSanityValSteps { get; init; } = 2;

    /// <summary>
    /// Seeds TorchSharp's generators when the trainer is created and again at the start of each fit, so that
    /// a run is repeatable. Create the trainer before the model (or call <see cref="Seed.Everything"/>) so the
    /// initial weights are seeded too.
    /// </summary>
    public long? Seed { get; init; }

    /// <summary>"auto" (CUDA when available, else CPU), "cpu", "cuda" or "cuda:N".</summary>
    public string Device { get; init; } = "auto";

    /// <summary>Intra-op threads for TorchSharp; null leaves TorchSharp's default (one per core).</summary>
    public int? Threads { get; init; }

    /// <summary>The native memory allocator policy applied when the trainer starts; see docs/allocator.md.</summary>
    public AllocatorPolicy AllocatorPolicy { get; init; } = AllocatorPolicy.Recommended;

    /// <summary>Show the progress bar and the per-epoch summary line.</summary>
    public bool EnableProgressBar { get; init; } = true;

    /// <summary>Print the model summary (layers and parameter counts) and hyperparameters at the start of a fit.</summary>
    public bool EnableModelSummary { get; init; } = true;

    /// <summary>Callbacks, e.g. <see cref="Callbacks.ModelCheckpoint"/>; their hooks run in this order.</summary>
    public System.Collections.Generic.IReadOnlyList<Callback> Callbacks { get; init; } = System.Array.Empty<Callback>();

    /// <summary>Where the progress bar, summaries and epoch lines go; null for the console.</summary>
    public TextWriter? Output { get; init; }

    internal int ResolvedMaxEpochs =>
        FastDevRun > 0 ? 1 : MaxEpochs ?? (MaxSteps >= 0 ? int.MaxValue : 1000);

    internal void Validate()
    {
        if (MaxEpochs is < -1) throw new LightningException($"TrainerOptions.MaxEpochs must be -1 (no limit) or 0 or more, got {MaxEpochs}.");
        if (MaxSteps < -1) throw new LightningException($"TrainerOptions.MaxSteps must be -1 (no limit) or 0 or more, got {MaxSteps}.");
        if (FastDevRun < 0) throw new LightningException($"TrainerOptions.FastDevRun must be 0 (off) or a number of batches, got {FastDevRun}.");
        if (NumSanityValSteps < -1) throw new LightningException($"TrainerOptions.NumSanityValSteps must be -1 (all) or 0 or more, got {NumSanityValSteps}.");
        if (AccumulateGradBatches < 1) throw new LightningException($"TrainerOptions.AccumulateGradBatches must be at least 1, got {AccumulateGradBatches}.");
        if (GradientClipVal is double clip && (!(clip > 0) || double.IsInfinity(clip)))
            throw new LightningException($"TrainerOptions.GradientClipVal must be a positive number, got {clip}.");
        if (GradientClipAlgorithm is not ("norm" or "value"))
            throw new LightningException($"TrainerOptions.GradientClipAlgorithm is '{GradientClipAlgorithm}': expected \"norm\" or \"value\".");
        if (Threads is < 1) throw new LightningException($"TrainerOptions.Threads must be at least 1, got {Threads}.");
        if (!Enum.IsDefined(AllocatorPolicy)) throw new LightningException($"TrainerOptions.AllocatorPolicy has an unknown value {(int)AllocatorPolicy}.");
    }
}
