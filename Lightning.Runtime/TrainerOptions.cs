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

    /// <summary>
    /// Train at least this many epochs: a stop asked before (by EarlyStopping, say) waits until they are done, as Lightning's
    /// <c>min_epochs</c>. Null: no minimum.
    /// </summary>
    public int? MinEpochs { get; init; }

    /// <summary>Take at least this many optimizer steps before a requested stop takes effect (Lightning's <c>min_steps</c>). Null: no minimum.</summary>
    public long? MinSteps { get; init; }

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

    /// <summary><see cref="Lightning.GradientClipAlgorithm.Norm"/> (the total 2-norm of all gradients, default) or <see cref="Lightning.GradientClipAlgorithm.Value"/> (each element).</summary>
    public GradientClipAlgorithm GradientClipAlgorithm { get; init; } = GradientClipAlgorithm.Norm;

    /// <summary>
    /// How often to validate within a training epoch: a fraction of the epoch (0.25 validates four times an epoch) or
    /// a number of training batches (Lightning's <c>val_check_interval</c>). Validation runs after batch b when b + 1 is
    /// a multiple of the interval in batches; with <see cref="CheckValEveryNEpoch"/> null the batches count across epochs.
    /// Default: once, at the end of each epoch.
    /// </summary>
    public BatchLimit ValCheckInterval { get; init; } = BatchLimit.All;

    /// <summary>Validate in every n-th epoch (1: every epoch); null validates by <see cref="ValCheckInterval"/> batches across epochs.</summary>
    public int? CheckValEveryNEpoch { get; init; } = 1;

    /// <summary>
    /// Train (and validate) on the same first batches of the training loader every epoch, unshuffled, to check the
    /// model can overfit them (Lightning's <c>overfit_batches</c>): a count or a fraction; 0 turns it off.
    /// </summary>
    public BatchLimit OverfitBatches { get; init; } = BatchLimit.Batches(0);

    /// <summary>Send the training step values to the loggers every n optimizer steps (reads logged tensors only then).</summary>
    public int LogEveryNSteps { get; init; } = 50;

    /// <summary>Stop training when this much time has passed (checked after each batch), as Lightning's <c>max_time</c>; null for no limit.</summary>
    public TimeSpan? MaxTime { get; init; }

    /// <summary>
    /// The floating-point precision of parameters and inputs: <see cref="Lightning.TrainingPrecision.Float32"/> ("32-true", default),
    /// <see cref="Lightning.TrainingPrecision.Float64"/> ("64-true") or <see cref="Lightning.TrainingPrecision.BFloat16"/> ("bf16-true").
    /// <see cref="Lightning.TrainingPrecision.Float16Mixed"/> ("16-mixed") and <see cref="Lightning.TrainingPrecision.BFloat16Mixed"/> ("bf16-mixed")
    /// need automatic mixed precision (autocast and a gradient scaler), which TorchSharp 0.107 does not provide; they are
    /// refused with an explanation, as is <see cref="Lightning.TrainingPrecision.Float16"/> ("16-true") on the CPU.
    /// </summary>
    public TrainingPrecision Precision { get; init; } = TrainingPrecision.Float32;

    /// <summary>
    /// Save checkpoints: when no <see cref="Callbacks.ModelCheckpoint"/> is given, one is added that keeps the latest
    /// epoch's checkpoint in the run's folder, as Lightning's <c>enable_checkpointing</c>.
    /// </summary>
    public bool EnableCheckpointing { get; init; } = true;

    /// <summary>
    /// On resume, a callback state in the checkpoint that matches no callback of the fit (e.g. an EarlyStopping whose
    /// monitor was renamed) is an error; by default it is a warning naming it, as Lightning's.
    /// </summary>
    public bool StrictCallbackStates { get; init; }

    /// <summary>The folder under which each fit writes <c>lightning_logs/version_N/</c> (logs and default checkpoints); default the current folder.</summary>
    public string DefaultRootDir { get; init; } = ".";

    /// <summary>
    /// Loggers that receive the hyperparameters and metrics (<see cref="Loggers.CsvLogger"/>,
    /// <see cref="Loggers.TensorBoardLogger"/>, <see cref="Loggers.PlotLogger"/>, or your own); null uses a CSV logger and
    /// a plot of the curves in the run's folder, an empty list none.
    /// </summary>
    public System.Collections.Generic.IReadOnlyList<Loggers.ILightningLogger>? Loggers { get; init; }

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

    /// <summary>
    /// <see cref="Lightning.Strategy.Auto"/> or <see cref="Lightning.Strategy.SingleDevice"/> (one process, the default), or
    /// <see cref="Lightning.Strategy.Ddp"/>: data-parallel training over MPI, one process per device, launched with
    /// <c>mpirun -np N dotnet app.dll</c> (docs/distributed.md).
    /// </summary>
    public Strategy Strategy { get; init; } = Strategy.Auto;

    /// <summary>
    /// <see cref="ProfilerKind.Simple"/> (Lightning's <c>profiler="simple"</c>) times each action of a fit and prints the table at its end
    /// (also <c>profile.csv</c> in the run folder); <see cref="ProfilerKind.None"/>, the default, times nothing. docs/profiler.md.
    /// </summary>
    public ProfilerKind Profiler { get; init; } = ProfilerKind.None;

    /// <summary>Intra-op threads for TorchSharp; null leaves TorchSharp's default (one per core).</summary>
    public int? Threads { get; init; }

    /// <summary>The native memory allocator policy applied when the trainer starts; see docs/allocator.md.</summary>
    public AllocatorPolicy AllocatorPolicy { get; init; } = AllocatorPolicy.Recommended;

    /// <summary>Show the progress bar and the per-epoch summary line.</summary>
    public bool EnableProgressBar { get; init; } = true;

    /// <summary>
    /// Print the model summary (layers and parameter counts) and hyperparameters at the start of a fit: a
    /// <see cref="Callbacks.ModelSummary"/> callback is added unless one is given.
    /// </summary>
    public bool EnableModelSummary { get; init; } = true;

    /// <summary>Callbacks, e.g. <see cref="Callbacks.ModelCheckpoint"/>; their hooks run in this order.</summary>
    public System.Collections.Generic.IReadOnlyList<ICallback> Callbacks { get; init; } = System.Array.Empty<ICallback>();

    /// <summary>Where the progress bar, summaries and epoch lines go; null for the console.</summary>
    public TextWriter? Output { get; init; }

    internal int ResolvedMaxEpochs =>
        FastDevRun > 0 ? 1 : MaxEpochs ?? (MaxSteps >= 0 ? int.MaxValue : 1000);

    /// <summary>
    /// Checks every setting's range; the first one out of range is an <see cref="OptionException"/> naming it (the
    /// command line turns it into its option's name). The trainer calls it when it is created.
    /// </summary>
    internal void Validate()
    {
        static void Fail(string member, string problem) => throw new OptionException(nameof(TrainerOptions), member, problem);
        if (MaxEpochs is < -1) Fail(nameof(MaxEpochs), $"is {MaxEpochs}; expected -1 (no limit) or 0 or more");
        if (MaxSteps < -1) Fail(nameof(MaxSteps), $"is {MaxSteps}; expected -1 (no limit) or 0 or more");
        if (MinEpochs is < 0) Fail(nameof(MinEpochs), $"is {MinEpochs}; expected 0 or more (or null for no minimum)");
        if (MinSteps is < 0) Fail(nameof(MinSteps), $"is {MinSteps}; expected 0 or more (or null for no minimum)");
        if (FastDevRun < 0) Fail(nameof(FastDevRun), $"is {FastDevRun}; expected 0 (off) or a number of batches");
        if (NumSanityValSteps < -1) Fail(nameof(NumSanityValSteps), $"is {NumSanityValSteps}; expected -1 (all) or 0 or more");
        if (AccumulateGradBatches < 1) Fail(nameof(AccumulateGradBatches), $"is {AccumulateGradBatches}; expected at least 1");
        if (GradientClipVal is double clip && (!(clip > 0) || double.IsInfinity(clip)))
            Fail(nameof(GradientClipVal), $"is {clip}; expected a positive number");
        if (!Enum.IsDefined(GradientClipAlgorithm))
            Fail(nameof(GradientClipAlgorithm), $"has the unknown value {(int)GradientClipAlgorithm}; expected \"norm\" or \"value\"");
        if (Threads is < 1) Fail(nameof(Threads), $"is {Threads}; expected at least 1");
        if (CheckValEveryNEpoch is < 1) Fail(nameof(CheckValEveryNEpoch), $"is {CheckValEveryNEpoch}; expected 1 or more (or null to validate by batches across epochs)");
        if (ValCheckInterval.Count is 0 || ValCheckInterval.Fraction is 0)
            Fail(nameof(ValCheckInterval), $"is {ValCheckInterval}; expected a positive number of batches or a fraction in (0, 1]");
        if (CheckValEveryNEpoch is null && ValCheckInterval.Count is null)
            Fail(nameof(ValCheckInterval), $"is the fraction {ValCheckInterval}; expected a number of batches, since CheckValEveryNEpoch is null (validation by batches across epochs)");
        if (LogEveryNSteps < 1) Fail(nameof(LogEveryNSteps), $"is {LogEveryNSteps}; expected at least 1");
        if (MaxTime is TimeSpan t && t <= TimeSpan.Zero) Fail(nameof(MaxTime), $"is {t}; expected a positive time");
        PrecisionMode.Parse(Precision);
        if (!Enum.IsDefined(Strategy))
            Fail(nameof(Strategy), $"has the unknown value {(int)Strategy}; expected \"auto\", \"single_device\" or \"ddp\" (DDP over MPI)");
        if (!Enum.IsDefined(Profiler))
            Fail(nameof(Profiler), $"has the unknown value {(int)Profiler}; expected ProfilerKind.None or ProfilerKind.Simple (\"simple\")");
        if (string.IsNullOrWhiteSpace(DefaultRootDir)) Fail(nameof(DefaultRootDir), "is empty; expected a folder (\".\" for the current one)");
        if (!Enum.IsDefined(AllocatorPolicy)) Fail(nameof(AllocatorPolicy), $"has the unknown value {(int)AllocatorPolicy}");
    }
}
