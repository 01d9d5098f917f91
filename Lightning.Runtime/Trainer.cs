using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text;
using Lightning.Loops;
using TorchSharp;
using static TorchSharp.torch;
using Lightning.Callbacks;
using Lightning.Data;
using Lightning.Reporting;

namespace Lightning;

/// <summary>
/// Runs a Lightning module's loops, as PyTorch Lightning's <c>Trainer</c>: <see cref="Fit{TBatch}(ILightningModule{TBatch}, LightningDataModule{TBatch}, string?)"/>,
/// <see cref="Validate{TBatch}(IValidationModule{TBatch}, LightningDataModule{TBatch})"/>, <see cref="Test{TBatch}(ITestModule{TBatch}, LightningDataModule{TBatch})"/>
/// and <see cref="Predict{TBatch, TOutput}(IPredictModule{TBatch, TOutput}, LightningDataModule{TBatch})"/>.
/// The per-batch code is generated into each module; the trainer owns epochs, limits, devices and reporting.
/// </summary>
public sealed partial class Trainer
{
    private readonly MetricBoard _metrics = new();
    private readonly ScalarType _floatType;

    /// <summary>Creates a trainer; seeds TorchSharp when <see cref="TrainerOptions.Seed"/> is set.</summary>
    public Trainer(TrainerOptions? options = null)
    {
        Options = options ?? new TrainerOptions();
        Options.Validate();
        _floatType = PrecisionMode.Parse(Options.Precision);
        if (Options.Seed is long seed) Seed.Everything(seed);
    }

    /// <summary>The settings of this trainer.</summary>
    public TrainerOptions Options { get; }

    private readonly FitProgress _noFit = new();

    /// <summary>Lightning's <c>Tuner(trainer)</c>: <c>trainer.Tuner.LrFind(model, data)</c> finds a learning rate (docs/lr-finder.md).</summary>
    public Tuning.Tuner Tuner => new(this);

    /// <summary>
    /// Where the running (or last) fit is: epoch, batch in epoch, global step, iteration, validation state. The fit loop
    /// advances it, a checkpoint saves it; the properties below read it.
    /// </summary>
    public FitProgress Progress => _lastFit?.Progress ?? _noFit;

    /// <summary>The epoch running (or last run), from 0.</summary>
    public int CurrentEpoch => Progress.Epoch;

    /// <summary>The checkpoint the running (or last) fit resumed from (Lightning's <c>trainer.ckpt_path</c>), or null; a ModelCheckpoint never deletes it.</summary>
    public string? CkptPath => _lastFit?.CkptPath;

    /// <summary>Optimizer steps taken so far.</summary>
    public long GlobalStep => Progress.GlobalStep;

    /// <summary>Training batches run in this fit, across epochs (Ignite's iteration count).</summary>
    public long Iteration => Progress.Iteration;

    /// <summary>True once a validation run (not the sanity check) has finished in this fit.</summary>
    public bool HasValidated => Progress.HasValidated;

    /// <summary>Set to true to stop training at the next batch (as Lightning's <c>trainer.should_stop</c>).</summary>
    public bool ShouldStop
    {
        get => Progress.ShouldStop;
        set => Progress.ShouldStop = value;
    }

    /// <summary>The device the last run used.</summary>
    public Device? Device { get; private set; }

    /// <summary>True when the epoch running (or last run) ran validation.</summary>
    public bool LastEpochValidated => Progress.EpochValidated;

    /// <summary>The optimizer of the running (or last) fit.</summary>
    public torch.optim.Optimizer? Optimizer => _lastFit?.Optimizer;

    /// <summary>The module of the last run.</summary>
    public ILightningModule? Module { get; private set; }

    /// <summary>The latest value of every metric: epoch means of training and validation (Lightning's <c>callback_metrics</c>).</summary>
    public IReadOnlyDictionary<string, double> CallbackMetrics => _metrics.Latest;

    /// <summary>The metrics of every completed training epoch, in order.</summary>
    public IReadOnlyList<IReadOnlyDictionary<string, double>> History => _metrics.History;

    /// <summary>Where the progress bar, summaries and messages go (<see cref="TrainerOptions.Output"/>, else the console).</summary>
    public TextWriter Output => Options.Output ?? Console.Out;

    private TextWriter Out => Output;

    /// <summary>True while <c>Fit</c> runs (callbacks that only act during training check it).</summary>
    public bool IsFitting => _fit is not null;

    private bool Interactive => Options.Output is null && !Console.IsOutputRedirected;

    // ---------------------------------------------------------------- Fit

    /// <summary>
    /// Trains <paramref name="model"/> on <paramref name="data"/>, validating after each epoch when both provide
    /// validation. <paramref name="ckptPath"/> resumes from a checkpoint: a path, or "last" / "best" of the
    /// <see cref="Callbacks.ModelCheckpoint"/> in <see cref="TrainerOptions.Callbacks"/>.
    /// </summary>
    public void Fit<TBatch>(ILightningModule<TBatch> model, LightningDataModule<TBatch> data, string? ckptPath = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(data);
        data.PrepareData();
        data.Setup(Stage.Fit);
        try
        {
            var train = data.TrainDataLoader() ?? throw new LightningException(
                $"{data.GetType().Name}.TrainDataLoader() returned null: Fit needs training batches.");
            FitCore(model, train, data.ValDataLoader(), ckptPath);
        }
        finally { data.Teardown(Stage.Fit); }
    }

    /// <summary>
    /// Trains <paramref name="model"/> on <paramref name="trainBatches"/>, validating on <paramref name="valBatches"/>
    /// when given; <paramref name="ckptPath"/> resumes from a checkpoint (a path, "last" or "best").
    /// </summary>
    public void Fit<TBatch>(ILightningModule<TBatch> model, IEnumerable<TBatch> trainBatches, IEnumerable<TBatch>? valBatches = null, string? ckptPath = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(trainBatches);
        FitCore(model, trainBatches, valBatches, ckptPath);
    }

    // ---------------------------------------------------------------- Validate, Test, Predict

    /// <summary>Runs the validation step over the data module's validation batches; returns the logged means.</summary>
    public IReadOnlyDictionary<string, double> Validate<TBatch>(IValidationModule<TBatch> model, LightningDataModule<TBatch> data) =>
        WithData(data, Stage.Validate, d => d.ValDataLoader(), "ValDataLoader", b => Validate(model, b));

    /// <summary>Runs the validation step over <paramref name="batches"/>; returns the logged means.</summary>
    public IReadOnlyDictionary<string, double> Validate<TBatch>(IValidationModule<TBatch> model, IEnumerable<TBatch> batches) =>
        Evaluate(model, model.RunValidation, batches, Stage.Validate, Options.LimitValBatches, "Validation");

    /// <summary>Runs the test step over the data module's test batches; returns the logged means.</summary>
    public IReadOnlyDictionary<string, double> Test<TBatch>(ITestModule<TBatch> model, LightningDataModule<TBatch> data) =>
        WithData(data, Stage.Test, d => d.TestDataLoader(), "TestDataLoader", b => Test(model, b));

    /// <summary>Runs the test step over <paramref name="batches"/>; returns the logged means.</summary>
    public IReadOnlyDictionary<string, double> Test<TBatch>(ITestModule<TBatch> model, IEnumerable<TBatch> batches) =>
        Evaluate(model, model.RunTest, batches, Stage.Test, Options.LimitTestBatches, "Testing");

    /// <summary>Runs the prediction step over the data module's predict batches; returns one output per batch.</summary>
    public List<TOutput> Predict<TBatch, TOutput>(IPredictModule<TBatch, TOutput> model, LightningDataModule<TBatch> data) =>
        WithData(data, Stage.Predict, d => d.PredictDataLoader(), "PredictDataLoader", b => Predict(model, b));

    /// <summary>Runs the prediction step over <paramref name="batches"/>; returns one output per batch.</summary>
    public List<TOutput> Predict<TBatch, TOutput>(IPredictModule<TBatch, TOutput> model, IEnumerable<TBatch> batches)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(batches);
        var device = Prepare(model);
        var outputs = new List<TOutput>();
        var limit = Options.FastDevRun > 0 ? BatchLimit.Batches(Options.FastDevRun) : Options.LimitPredictBatches;
        var progress = Options.EnableProgressBar ? new ProgressBar(Out, Interactive) : null;
        var callbacks = _fit is null ? new CallbackList(this, model, Options.Callbacks) : null;
        callbacks?.EvaluationStart(Stage.Predict);
        using (new DefaultFloatType(_floatType))
            EvaluationLoop.Run(model, (b, loop) => model.RunPredict(b, loop, outputs), batches, Stage.Predict, limit, "Predicting", progress,
                new BatchTransfer(Device!, _floatType), _fit?.Callbacks);
        callbacks?.EvaluationEnd(Stage.Predict);
        progress?.Clear();
        return outputs;
    }

    private T WithData<TBatch, T>(LightningDataModule<TBatch> data, Stage stage, Func<LightningDataModule<TBatch>, IEnumerable<TBatch>?> loader, string loaderName, Func<IEnumerable<TBatch>, T> run)
    {
        ArgumentNullException.ThrowIfNull(data);
        data.PrepareData();
        data.Setup(stage);
        try
        {
            var batches = loader(data) ?? throw new LightningException(
                $"{data.GetType().Name}.{loaderName}() returned null: {stage} needs batches.");
            return run(batches);
        }
        finally { data.Teardown(stage); }
    }

    private IReadOnlyDictionary<string, double> Evaluate<TBatch>(ILightningModule<TBatch> model, Action<IEnumerable<TBatch>, EvaluationLoop> run,
        IEnumerable<TBatch> batches, Stage stage, BatchLimit limit, string title)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(batches);
        Prepare(model);
        if (Options.FastDevRun > 0) limit = BatchLimit.Batches(Options.FastDevRun);
        var progress = Options.EnableProgressBar ? new ProgressBar(Out, Interactive) : null;
        var callbacks = _fit is null ? new CallbackList(this, model, Options.Callbacks) : null;
        callbacks?.EvaluationStart(stage);
        List<KeyValuePair<string, double>> means;
        using (new DefaultFloatType(_floatType))
            means = EvaluationLoop.Run(model, run, batches, stage, limit, title, progress, new BatchTransfer(Device!, _floatType), _fit?.Callbacks);
        // An evaluation inside a fit (e.g. an Ignite-style evaluator in a handler): the training epoch's metrics go on.
        if (_fit is { } fit) model.Metrics.ContinueRun(fit.TrainingRun, Stage.Fit, training: true);
        if (callbacks is not null) _metrics.Publish(means);
        callbacks?.EvaluationEnd(stage);
        progress?.Clear();
        var result = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var (name, value) in means) result[name] = value;
        if (progress is not null && means.Count > 0)
            Out.WriteLine($"{title}: " + string.Join(" ", means.Select(m => $"{m.Key} {MetricFormat.Epoch(m.Value)}")));
        return result;
    }

    // ---------------------------------------------------------------- Shared set-up

    /// <summary>Applies process settings, seeds, picks the device and moves the module there.</summary>
    private Device Prepare(ILightningModule model)
    {
        // Within a fit (a callback evaluating, Ignite-style) nothing is reset: no reseeding, same device.
        if (_fit is not null) return Device!;
        Allocator.Apply(Options.AllocatorPolicy);
        if (Options.Threads is int threads) torch.set_num_threads(threads);
        if (Options.Seed is long seed) Seed.Everything(seed);
        var device = DeviceSelector.Resolve(Options.Device);
        model.RegisterComponentsOnce();
        model.Module.to(device);
        if (_floatType != ScalarType.Float32) model.Module.to(_floatType);
        Device = device;
        Module = model;
        return device;
    }

    /// <summary>
    /// The latest value of <paramref name="monitor"/>, for a callback (<paramref name="owner"/>, e.g. "EarlyStopping")
    /// that monitors it; a metric that was never logged is an error listing the logged ones.
    /// </summary>
    public double MonitoredMetric(string owner, string monitor) => _metrics.Monitored(owner, monitor);

    /// <summary>Batches in <paramref name="batches"/> when that is known without enumerating, else null.</summary>
    internal static long? CountOf<TBatch>(IEnumerable<TBatch> batches) => batches switch
    {
        IReadOnlyCollection<TBatch> c => c.Count,
        ICollection<TBatch> c => c.Count,
        _ => batches.TryGetNonEnumeratedCount(out int n) ? n : null,
    };

    /// <summary>
    /// The summary line of an epoch: <c>Epoch 1/5 loss 0.61840 val_loss 0.20638 acc 0.83090 val_acc 0.94002</c>.
    /// Each validation metric follows its training counterpart (<c>val_x</c> after <c>x</c> or <c>train_x</c>).
    /// </summary>
    internal static string EpochLine(int epoch, string epochs, IReadOnlyList<KeyValuePair<string, double>> metrics, TimeSpan elapsed)
    {
        var sb = new StringBuilder($"Epoch {epoch}/{epochs}");
        var printed = new HashSet<string>(StringComparer.Ordinal);
        var byName = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var (k, v) in metrics) byName[k] = v;
        // A metric logged per step and per epoch also has name_step and name_epoch; the line shows its epoch value once.
        bool Variant(string name) =>
            (name.EndsWith("_step", StringComparison.Ordinal) && byName.ContainsKey(name[..^"_step".Length])) ||
            (name.EndsWith("_epoch", StringComparison.Ordinal) && byName.ContainsKey(name[..^"_epoch".Length]));
        void Add(string name)
        {
            if (printed.Add(name)) sb.Append(' ').Append(name).Append(' ').Append(MetricFormat.Epoch(byName[name]));
        }
        foreach (var (name, _) in metrics)
        {
            if (name.StartsWith("val_", StringComparison.Ordinal) || Variant(name)) continue;
            Add(name);
            var stem = name.StartsWith("train_", StringComparison.Ordinal) ? name["train_".Length..] : name;
            if (byName.ContainsKey("val_" + stem)) Add("val_" + stem);
        }
        foreach (var (name, _) in metrics) if (!Variant(name)) Add(name);
        sb.Append(" time ").Append(elapsed.TotalSeconds.ToString("0.0", System.Globalization.CultureInfo.InvariantCulture)).Append('s');
        return sb.ToString();
    }
}
