using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace Lightning;

/// <summary>
/// Runs a Lightning module's loops, as PyTorch Lightning's <c>Trainer</c>: <see cref="Fit{TBatch}(ILightningModule{TBatch}, LightningDataModule{TBatch}, string?)"/>,
/// <see cref="Validate{TBatch}(IValidationModule{TBatch}, LightningDataModule{TBatch})"/>, <see cref="Test{TBatch}(ITestModule{TBatch}, LightningDataModule{TBatch})"/>
/// and <see cref="Predict{TBatch, TOutput}(IPredictModule{TBatch, TOutput}, LightningDataModule{TBatch})"/>.
/// The per-batch code is generated into each module; the trainer owns epochs, limits, devices and reporting.
/// </summary>
public sealed class Trainer
{
    private readonly Dictionary<string, double> _callbackMetrics = new(StringComparer.Ordinal);
    private readonly List<IReadOnlyDictionary<string, double>> _history = new();

    /// <summary>Creates a trainer; seeds TorchSharp when <see cref="TrainerOptions.Seed"/> is set.</summary>
    public Trainer(TrainerOptions? options = null)
    {
        Options = options ?? new TrainerOptions();
        Options.Validate();
        if (Options.Seed is long seed) Seed.Everything(seed);
    }

    /// <summary>The settings of this trainer.</summary>
    public TrainerOptions Options { get; }

    /// <summary>The epoch running (or last run), from 0.</summary>
    public int CurrentEpoch { get; private set; }

    /// <summary>Optimizer steps taken so far.</summary>
    public long GlobalStep { get; internal set; }

    /// <summary>Set to true to stop training at the next batch (as Lightning's <c>trainer.should_stop</c>).</summary>
    public bool ShouldStop { get; set; }

    /// <summary>The device the last run used.</summary>
    public Device? Device { get; private set; }

    /// <summary>True when the epoch running (or last run) ran validation.</summary>
    public bool LastEpochValidated { get; private set; }

    /// <summary>The optimizer of the last fit.</summary>
    public torch.optim.Optimizer? Optimizer { get; private set; }

    /// <summary>The module of the last run.</summary>
    public ILightningModule? Module { get; private set; }

    /// <summary>The latest value of every metric: epoch means of training and validation (Lightning's <c>callback_metrics</c>).</summary>
    public IReadOnlyDictionary<string, double> CallbackMetrics => _callbackMetrics;

    /// <summary>The metrics of every completed training epoch, in order.</summary>
    public IReadOnlyList<IReadOnlyDictionary<string, double>> History => _history;

    private TextWriter Out => Options.Output ?? Console.Out;

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

    private void FitCore<TBatch>(ILightningModule<TBatch> model, IEnumerable<TBatch> train, IEnumerable<TBatch>? val, string? ckptPath)
    {
        var device = Prepare(model);
        var optimization = model.ConfigureOptimizers() ?? throw new LightningException(
            $"{model.ModuleTypeName}'s [ConfigureOptimizers] method returned null: it must return an optimizer.");
        Optimizer = optimization.Optimizer;
        if (!model.AutomaticOptimization && (Options.AccumulateGradBatches != 1 || Options.GradientClipVal is not null))
            throw new LightningException(
                $"{model.ModuleTypeName} uses manual optimization, so the trainer does not step its optimizer: TrainerOptions.AccumulateGradBatches and " +
                "GradientClipVal cannot apply. Accumulate or clip in the training step (e.g. torch.nn.utils.clip_grad_norm_) instead.");

        var validation = model as IValidationModule<TBatch>;
        if (val is not null && validation is null)
            Out.WriteLine($"Validation batches were given but {model.ModuleTypeName} has no [ValidationStep] method: validation is skipped.");
        if (validation is null) val = null;

        if (Options.EnableModelSummary && Options.FastDevRun == 0)
        {
            Out.WriteLine(ModelSummary.Format(model.Module));
            Out.WriteLine();
            Out.WriteLine(HyperParameterTable.Format(model.HyperParameters));
            Out.WriteLine();
        }

        var progress = Options.EnableProgressBar ? new ProgressBar(Out, Interactive) : null;
        ShouldStop = false;
        GlobalStep = 0;
        _history.Clear();
        _callbackMetrics.Clear();
        int startEpoch = ckptPath is null ? 0 : Resume(model, optimization, ckptPath);
        foreach (var c in Options.Callbacks) c.OnFitStart(this, model);

        // Sanity check: a few validation batches before training, so a bug there shows up in seconds.
        if (val is not null && Options.FastDevRun == 0 && Options.NumSanityValSteps != 0)
        {
            var limit = Options.NumSanityValSteps < 0 ? Options.LimitValBatches : BatchLimit.Batches(Options.NumSanityValSteps);
            RunEvaluation(model, validation!.RunValidation, val, Stage.Validate, limit, "Sanity check", progress);
        }

        int maxEpochs = Options.MaxEpochs == -1 ? int.MaxValue : Options.ResolvedMaxEpochs;
        long maxSteps = Options.FastDevRun > 0 ? Options.FastDevRun : Options.MaxSteps;
        var trainLimit = Options.FastDevRun > 0 ? BatchLimit.Batches(Options.FastDevRun) : Options.LimitTrainBatches;
        var valLimit = Options.FastDevRun > 0 ? BatchLimit.Batches(Options.FastDevRun) : Options.LimitValBatches;
        long? trainCount = CountOf(train);
        var loop = new TrainingLoop(this, model.Metrics, optimization.Optimizer, device, progress, model.Module.parameters(), Options);
        string epochsText = maxEpochs == int.MaxValue ? "?" : maxEpochs.ToString();

        for (int epoch = startEpoch; epoch < maxEpochs; epoch++)
        {
            if (ShouldStop || (maxSteps >= 0 && GlobalStep >= maxSteps)) break;
            CurrentEpoch = epoch;
            if (train is IEpochAware epochAware) epochAware.SetEpoch(epoch);
            var started = Stopwatch.GetTimestamp();
            long batches = trainLimit.Resolve(trainCount);
            foreach (var c in Options.Callbacks) c.OnTrainEpochStart(this, model);
            progress?.Start($"Epoch {epoch + 1}/{epochsText}", batches == long.MaxValue ? null : batches);
            model.Metrics.BeginRun(Stage.Fit, training: true);
            loop.BeginEpoch(batches, maxSteps);
            model.RunTrainingEpoch(train, loop);
            loop.EndEpoch();
            var epochMetrics = model.Metrics.RunMeans();
            if (loop.BatchesRun == 0) { progress?.Clear(); break; }
            Publish(epochMetrics);

            LastEpochValidated = val is not null;
            if (val is not null)
            {
                var valMetrics = RunEvaluation(model, validation!.RunValidation, val, Stage.Validate, valLimit, "Validation", progress);
                Publish(valMetrics);
                epochMetrics.AddRange(valMetrics);
                foreach (var c in Options.Callbacks) c.OnValidationEnd(this, model);
            }

            optimization.Scheduler?.step();
            foreach (var c in Options.Callbacks) c.OnTrainEpochEnd(this, model);
            var record = new Dictionary<string, double>(StringComparer.Ordinal);
            foreach (var (name, value) in epochMetrics) record[name] = value;
            _history.Add(record);
            progress?.Clear();
            if (progress is not null)
                Out.WriteLine(EpochLine(epoch + 1, epochsText, epochMetrics, Stopwatch.GetElapsedTime(started)));
        }
        foreach (var c in Options.Callbacks) c.OnFitEnd(this, model);
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
        RunEvaluation(model, (b, loop) => model.RunPredict(b, loop, outputs), batches, Stage.Predict, limit, "Predicting", progress);
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
        var means = RunEvaluation(model, run, batches, stage, limit, title, progress);
        progress?.Clear();
        var result = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var (name, value) in means) result[name] = value;
        if (progress is not null && means.Count > 0)
            Out.WriteLine($"{title}: " + string.Join(" ", means.Select(m => $"{m.Key} {MetricFormat.Epoch(m.Value)}")));
        return result;
    }

    private List<KeyValuePair<string, double>> RunEvaluation<TBatch>(ILightningModule<TBatch> model, Action<IEnumerable<TBatch>, EvaluationLoop> run,
        IEnumerable<TBatch> batches, Stage stage, BatchLimit limit, string title, ProgressBar? progress)
    {
        bool wasTraining = model.Module.training;
        long count = limit.Resolve(CountOf(batches));
        progress?.Start(title, count == long.MaxValue ? null : count);
        model.Metrics.BeginRun(stage, training: false);
        run(batches, new EvaluationLoop(stage, model.Metrics, Device!, count, progress));
        if (wasTraining) model.Module.train();
        progress?.Clear();
        return model.Metrics.RunMeans();
    }

    // ---------------------------------------------------------------- Shared set-up

    /// <summary>Applies process settings, seeds, picks the device and moves the module there.</summary>
    private Device Prepare(ILightningModule model)
    {
        Allocator.Apply(Options.AllocatorPolicy);
        if (Options.Threads is int threads) torch.set_num_threads(threads);
        if (Options.Seed is long seed) Seed.Everything(seed);
        var device = DeviceSelector.Resolve(Options.Device);
        model.RegisterComponentsOnce();
        model.Module.to(device);
        Device = device;
        Module = model;
        return device;
    }

    /// <summary>
    /// Writes the last run's module (weights, hyperparameters, epoch and step) to <paramref name="path"/> as one
    /// safetensors file, atomically; reload it with the generated <c>Foo.LoadFromCheckpoint(path)</c>.
    /// </summary>
    public void SaveCheckpoint(string path)
    {
        var module = Module ?? throw new LightningException("SaveCheckpoint: this trainer has not run a module yet (call Fit first).");
        Checkpoints.Checkpoint.Save(path, module, CurrentEpoch, GlobalStep, Optimizer);
    }

    /// <summary>
    /// Restores weights, optimizer, random state, step count and scheduler from a checkpoint written at the end
    /// of an epoch; returns the epoch to continue with.
    /// </summary>
    private int Resume(ILightningModule model, Optimization optimization, string ckptPath)
    {
        var path = ckptPath switch
        {
            "last" => Options.Callbacks.OfType<Callbacks.ModelCheckpoint>().Select(c => c.LastModelPath).FirstOrDefault(p => p is not null)
                ?? throw new LightningException("Fit(ckptPath: \"last\") needs a ModelCheckpoint in TrainerOptions.Callbacks that has saved a checkpoint; pass a path instead."),
            "best" => Options.Callbacks.OfType<Callbacks.ModelCheckpoint>().Select(c => c.BestModelPath).FirstOrDefault(p => p is not null)
                ?? throw new LightningException("Fit(ckptPath: \"best\") needs a ModelCheckpoint in TrainerOptions.Callbacks that has saved a checkpoint; pass a path instead."),
            _ => ckptPath,
        };
        var checkpoint = Checkpoints.Checkpoint.Open(path, model.ModuleTypeName);
        checkpoint.LoadWeights(model.Module);
        int next = checkpoint.Epoch + 1;
        // Replay the scheduler first (TorchSharp's schedulers have no state dict): that sets its epoch counter;
        // the optimizer state restored next then sets the exact learning rates that were saved.
        for (int i = 0; i < next; i++) optimization.Scheduler?.step();
        checkpoint.RestoreTrainingState(optimization.Optimizer);
        GlobalStep = checkpoint.GlobalStep;
        Out.WriteLine($"Resumed from {path}: epoch {next + 1}, step {GlobalStep}.");
        return next;
    }

    /// <summary>
    /// The latest value of <paramref name="monitor"/>, for a callback (<paramref name="owner"/>, e.g. "EarlyStopping")
    /// that monitors it; a metric that was never logged is an error listing the logged ones.
    /// </summary>
    public double MonitoredMetric(string owner, string monitor) =>
        _callbackMetrics.TryGetValue(monitor, out var value) ? value : throw new LightningException(
            $"{owner}(Monitor = \"{monitor}\") could not find the monitored metric in the logged metrics: " +
            (_callbackMetrics.Count == 0 ? "none were logged" : string.Join(", ", _callbackMetrics.Keys.OrderBy(k => k, StringComparer.Ordinal))) + ".");

    /// <summary>Makes <paramref name="metrics"/> the latest values in <see cref="CallbackMetrics"/>.</summary>
    private void Publish(List<KeyValuePair<string, double>> metrics)
    {
        foreach (var (name, value) in metrics) _callbackMetrics[name] = value;
    }

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
        void Add(string name)
        {
            if (printed.Add(name)) sb.Append(' ').Append(name).Append(' ').Append(MetricFormat.Epoch(byName[name]));
        }
        foreach (var (name, _) in metrics)
        {
            if (name.StartsWith("val_", StringComparison.Ordinal)) continue;
            Add(name);
            var stem = name.StartsWith("train_", StringComparison.Ordinal) ? name["train_".Length..] : name;
            if (byName.ContainsKey("val_" + stem)) Add("val_" + stem);
        }
        foreach (var (name, _) in metrics) Add(name);
        sb.Append(" time ").Append(elapsed.TotalSeconds.ToString("0.0", System.Globalization.CultureInfo.InvariantCulture)).Append('s');
        return sb.ToString();
    }
}
