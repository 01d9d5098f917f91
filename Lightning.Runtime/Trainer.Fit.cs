using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text.Json;
using Lightning.Checkpoints;
using Lightning.Loggers;
using TorchSharp;
using static TorchSharp.torch;

namespace Lightning;

// The fit loop: epochs, validation within and after them, resume, loggers. Its order of hooks is docs/hooks.md.
public sealed partial class Trainer
{
    private FitRun? _run;       // the fit running now
    private FitRun? _lastRun;   // the last fit, for SaveCheckpoint after Fit returns

    /// <summary>What one fit holds while it runs: its callbacks, scheduler, loggers and validation.</summary>
    private sealed class FitRun
    {
        public required ILightningModule Module { get; init; }
        public required CallbackList Callbacks { get; init; }
        public required SchedulerRunner Scheduler { get; init; }
        public required List<ILightningLogger> Loggers { get; init; }
        public required List<ILightningLogger> OwnedLoggers { get; init; }
        public required Func<List<KeyValuePair<string, double>>>? Validate { get; init; }
        public required long ValCheckBatches { get; init; }
        public int TrainingRun { get; set; }
        public List<KeyValuePair<string, double>>? EpochValidation { get; set; }
        public bool EpochFinished { get; set; }
        public bool EpochEndDone { get; set; }
        public TrainingLoop? Loop { get; set; }
    }

    private void FitCore<TBatch>(ILightningModule<TBatch> model, IEnumerable<TBatch> train, IEnumerable<TBatch>? val, string? ckptPath)
    {
        var device = Prepare(model);
        // Data-parallel: every rank starts from rank 0's weights and trains on its own shard of each epoch.
        Distributed = Options.Strategy == Strategy.Ddp ? Lightning.Distributed.DataParallel.Start() : null;
        if (Distributed is { WorldSize: > 1 } ddp)
        {
            ddp.BroadcastWeights(model.Module);
            Shard(train, "training", ddp);
            if (val is not null) Shard(val, "validation", ddp);
        }
        var optimization = model.ConfigureOptimizers() ?? throw new LightningException(
            $"{model.ModuleTypeName}'s [ConfigureOptimizers] method returned null: it must return an optimizer.");
        Optimizer = optimization.Optimizer;
        if (!model.AutomaticOptimization && (Options.AccumulateGradBatches != 1 || Options.GradientClipVal is not null))
            throw new LightningException(
                $"{model.ModuleTypeName} uses manual optimization, so the trainer does not step its optimizer: TrainerOptions.AccumulateGradBatches and " +
                "GradientClipVal cannot apply. Accumulate or clip in the training step (e.g. torch.nn.utils.clip_grad_norm_) instead.");
        var scheduler = new SchedulerRunner(this, optimization, model.ModuleTypeName);

        var validation = model as IValidationModule<TBatch>;
        if (val is not null && validation is null)
            Out.WriteLine($"Validation batches were given but {model.ModuleTypeName} has no [ValidationStep] method: validation is skipped.");
        if (validation is null) val = null;

        // Overfitting a few batches: the same first batches, unshuffled, for training and validation.
        long overfit = Options.OverfitBatches.Count is 0 ? 0 : Options.OverfitBatches.Resolve(CountOf(train));
        if (overfit > 0)
        {
            train = FirstBatches(train, overfit);
            if (validation is not null) val = train;
        }

        bool fastDev = Options.FastDevRun > 0;
        var progress = Options.EnableProgressBar && IsGlobalZero ? new ProgressBar(Out, Interactive) : null;
        ShouldStop = false;
        GlobalStep = 0;
        Iteration = 0;
        HasValidated = false;
        LastEpochValidated = false;
        _history.Clear();
        _callbackMetrics.Clear();
        _logDir = null;
        if (Distributed is { WorldSize: > 1 } ranks)
        {
            // One run folder for the job: rank 0 picks and creates it, the others learn its number.
            long version = ranks.BroadcastFromZero(ranks.IsGlobalZero ? VersionOf(LogDir) : 0);
            if (!ranks.IsGlobalZero) _logDir = Path.Combine(Options.DefaultRootDir, "lightning_logs", "version_" + version.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        int maxEpochs = Options.MaxEpochs == -1 ? int.MaxValue : Options.ResolvedMaxEpochs;
        long maxSteps = fastDev ? Options.FastDevRun : Options.MaxSteps;
        var trainLimit = fastDev ? BatchLimit.Batches(Options.FastDevRun) : overfit > 0 ? BatchLimit.All : Options.LimitTrainBatches;
        var valLimit = fastDev ? BatchLimit.Batches(Options.FastDevRun) : overfit > 0 ? BatchLimit.All : Options.LimitValBatches;
        long? trainCount = CountOf(train);
        long epochBatches = trainLimit.Resolve(trainCount);

        var loggers = fastDev || !IsGlobalZero ? new List<ILightningLogger>() : Options.Loggers?.ToList() ?? DefaultLoggers();
        var run = new FitRun
        {
            Module = model,
            Callbacks = new CallbackList(this, model, FitCallbacks(fastDev)),
            Scheduler = scheduler,
            Loggers = loggers,
            OwnedLoggers = Options.Loggers is null ? loggers : new List<ILightningLogger>(),
            Validate = val is null ? null : () => RunEvaluation(model, validation!.RunValidation, val, Stage.Validate, valLimit, "Validation", progress),
            // fast_dev_run validates once at the end of its one epoch (Lightning's trainer/setup.py sets val_check_interval = 1.0
            // and check_val_every_n_epoch = 1).
            ValCheckBatches = fastDev ? long.MaxValue : ValCheckBatches(epochBatches),
        };
        _run = run;
        _lastRun = run;
        var transfer = new BatchTransfer(device, _floatType);
        var loop = new TrainingLoop(this, model, optimization.Optimizer, transfer, progress, run.Callbacks, scheduler, Options);
        run.Loop = loop;
        using var precision = new DefaultFloatType(_floatType);
        var fitStarted = Stopwatch.GetTimestamp();
        bool failedAtStart = false;
        long startIteration = -1;
        string? createdLogDir = null;
        CkptPath = null;
        try
        {
            // The checkpoint to resume from is opened and checked before anything is created or changed.
            Checkpoint? resume = ckptPath is null ? null : OpenResumeCheckpoint(model, ckptPath);
            var position = resume?.ReadPosition(model.AutomaticOptimization);
            using var schedulerState = resume?.JsonMetadata("scheduler");
            using var savedMetrics = resume?.JsonMetadata("callback_metrics");
            using var callbackStates = resume?.JsonMetadata("callbacks");
            resume?.CheckRandomState();
            if (resume is not null) WarnOfOtherHyperparameters(resume, model);

            bool hadLogDir = _logDir is not null;
            foreach (var logger in loggers) logger.Start(LogDir, model.HyperParameters);
            if (!hadLogDir && _logDir is not null) createdLogDir = _logDir;

            int startEpoch = 0;
            long startBatch = 0;
            if (resume is not null && position is not null)
            {
                CkptPath = resume.Path;
                resume.LoadWeights(model.Module);
                // Replay the scheduler's steps first (TorchSharp's schedulers have no state dict); the optimizer state
                // restored next then sets the exact learning rates that were saved.
                if (schedulerState is not null) scheduler.Replay(schedulerState.RootElement, resume.Path, position);
                else if (optimization.Scheduler is not null)
                    throw new CheckpointException(resume.Path, "its metadata has no 'scheduler' step history (an older Lightning wrote it), so a fit with a learning-rate scheduler cannot resume from it exactly");
                resume.RestoreOptimizer(optimization.Optimizer);
                GlobalStep = position.GlobalStep;
                Iteration = position.Iteration;
                if (savedMetrics is not null)
                    foreach (var p in CheckpointJson.Object(savedMetrics.RootElement, resume.Path, "callback_metrics").EnumerateObject())
                        _callbackMetrics[p.Name] = CheckpointJson.Number(p.Value, resume.Path, "callback_metrics." + p.Name);
                (startEpoch, startBatch) = position.EpochFinished ? (position.Epoch + 1, 0L) : (position.Epoch, position.BatchInEpoch);
                CurrentEpoch = position.Epoch;
            }

            run.Callbacks.FitStart();
            if (resume is not null && callbackStates is not null) RestoreCallbackStates(run.Callbacks, callbackStates.RootElement, resume.Path);

            // Sanity check: a few validation batches before training, so a bug there shows up in seconds. At most the
            // batches a validation run has (Lightning's evaluation_loop: min(num_sanity_val_steps, max_batches)), and none
            // when that is 0 (Lightning's _run_sanity_check needs limit_val_batches > 0).
            long sanityBatches = val is null || fastDev || Options.NumSanityValSteps == 0 ? 0
                : Math.Min(Options.NumSanityValSteps < 0 ? long.MaxValue : Options.NumSanityValSteps, valLimit.Resolve(CountOf(val)));
            if (sanityBatches > 0)
            {
                run.Callbacks.SanityCheckStart();
                RunEvaluation(model, validation!.RunValidation, val!, Stage.Validate, BatchLimit.Batches(sanityBatches), "Sanity check", progress);
                run.Callbacks.SanityCheckEnd();
            }

            if (resume is not null)
            {
                resume.RestoreRandomState();
                // A checkpoint written at the end of an epoch's validation comes before that epoch's scheduler step.
                // A checkpoint written at the end of an epoch's validation comes before that epoch's plateau scheduler step.
                if (resume.EpochFinished && !resume.EpochEndDone && model.AutomaticOptimization) scheduler.AfterEpochEnd(resume.Epoch);
                // Epochs and batches are counted from 0, as everywhere (file names, metrics.csv, CurrentEpoch, the progress bar).
                Out.WriteLine($"Resumed from {resume.Path}: continuing at epoch {startEpoch}, batch {startBatch}, global step {GlobalStep}.");
            }

            startIteration = Iteration;
            run.Callbacks.TrainStart();
            // "Epoch 3/14": epochs from 0 and the last epoch's number, as Lightning's rich progress bar.
            string epochsText = maxEpochs == int.MaxValue ? "?" : (maxEpochs - 1).ToString(System.Globalization.CultureInfo.InvariantCulture);
            for (int epoch = startEpoch; epoch < maxEpochs; epoch++)
            {
                if ((AgreeOnStop() && CanStopEarly(epoch)) || (maxSteps >= 0 && GlobalStep >= maxSteps)) break;
                CurrentEpoch = epoch;
                LastEpochValidated = false;
                run.EpochValidation = null;
                run.EpochFinished = false;
                run.EpochEndDone = false;
                if (train is IEpochAware epochAware) epochAware.SetEpoch(epoch);
                var started = Stopwatch.GetTimestamp();
                long firstBatch = epoch == startEpoch ? startBatch : 0;
                run.Callbacks.TrainEpochStart();
                progress?.Start($"Epoch {epoch}/{epochsText}", epochBatches == long.MaxValue ? null : epochBatches);
                run.TrainingRun = model.Metrics.BeginRun(Stage.Fit, training: true);
                loop.BeginEpoch(firstBatch, epochBatches, maxSteps);
                model.RunTrainingEpoch(firstBatch > 0 ? new SkippedBatches<TBatch>(train, firstBatch) : train, loop);
                loop.EndEpoch();
                // Lightning's _num_ready_batches_reached: epoch-interval schedulers step only after an epoch that ran all its batches.
                bool ranAllBatches = epochBatches == long.MaxValue
                    ? !((ShouldStop && CanStopEarly(epoch)) || (maxSteps >= 0 && GlobalStep >= maxSteps))
                    : loop.BatchesRun >= epochBatches;
                if (ranAllBatches) loop.EpochBatchesDone();
                run.EpochFinished = true;
                var epochMetrics = SyncAcrossRanks(model.Metrics.RunMeans(), model.Metrics);
                if (loop.BatchesRun == 0) { progress?.Clear(); break; }   // no batches at all
                Publish(epochMetrics);

                // Validation after the epoch, unless it ran within the epoch (ValCheckInterval).
                if (ValidationEpoch(epoch) && run.Validate is not null && run.ValCheckBatches == long.MaxValue)
                    ValidateWithinFit(run);
                if (run.EpochValidation is not null) epochMetrics.AddRange(run.EpochValidation);

                run.Callbacks.TrainEpochEnd();
                if (model.AutomaticOptimization && ranAllBatches) scheduler.AfterEpochEnd(epoch);
                run.EpochEndDone = true;
                var record = new Dictionary<string, double>(StringComparer.Ordinal);
                foreach (var (name, value) in epochMetrics) record[name] = value;
                _history.Add(record);
                // The epoch's training values; its validation values went to the loggers when the validation ran.
                var logged = new Dictionary<string, double>(StringComparer.Ordinal) { ["epoch"] = epoch };
                foreach (var (name, value) in epochMetrics)
                    if (run.EpochValidation is null || !run.EpochValidation.Any(v => v.Key == name)) logged[name] = value;
                foreach (var logger in loggers) logger.LogMetrics(logged, GlobalStep, epoch);
                progress?.Clear();
                if (progress is not null)
                    Out.WriteLine(EpochLine(epoch, epochsText, epochMetrics, Stopwatch.GetElapsedTime(started)));
            }
            run.Callbacks.TrainEnd();
            run.Callbacks.FitEnd();
            // Data-parallel: no rank leaves the fit before rank 0 has written its last files (a resume reads them).
            Distributed?.Barrier();
        }
        catch (Exception e)
        {
            failedAtStart = startIteration < 0 || Iteration == startIteration;
            run.Callbacks.Exception(e);
            // A failure on one rank would leave the others waiting in a collective: end the whole job now.
            Distributed?.AbortJob(e);
            throw;
        }
        finally
        {
            // A logger that cannot finish (a plot that cannot be drawn, a full disk) must not fail a fit whose
            // weights and checkpoints are already saved: say so and go on.
            foreach (var logger in loggers)
            {
                try { logger.Finish(); }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    Out.WriteLine($"Logger '{logger.Name}' could not finish: {e.GetType().Name}: {e.Message}");
                }
            }
            foreach (var logger in run.OwnedLoggers) logger.Dispose();
            _run = null;
            progress?.Clear();
            // A fit that failed before its first training batch leaves no run folder of its own behind.
            if (failedAtStart && createdLogDir is not null) RemoveRunFolder(createdLogDir);
        }
    }

    /// <summary>
    /// Whether a requested stop may take effect after <paramref name="epochsDone"/> epochs: MinEpochs and MinSteps are met
    /// (Lightning's <c>FitLoop._can_stop_early</c>).
    /// </summary>
    internal bool CanStopEarly(int epochsDone) =>
        (Options.MinEpochs is not int minEpochs || epochsDone >= minEpochs) && (Options.MinSteps is not long minSteps || GlobalStep >= minSteps);

    /// <summary>True while a fit with validation batches runs (Lightning's <c>trainer.enable_validation</c>).</summary>
    public bool HasValidation => _run?.Validate is not null;

    /// <summary>The data-parallel context of the current fit (Strategy "ddp"), or null.</summary>
    public Lightning.Distributed.DataParallel? Distributed { get; private set; }

    /// <summary>True unless this process is a data-parallel rank other than 0 (which writes no files and prints nothing).</summary>
    public bool IsGlobalZero => Distributed is null || Distributed.IsGlobalZero;

    private static void Shard<TBatch>(IEnumerable<TBatch> batches, string what, Lightning.Distributed.DataParallel ddp)
    {
        if (batches is not Lightning.Distributed.IDistributedShard shardable)
            throw new LightningException(
                $"Strategy \"ddp\": the {what} loader ({batches.GetType().Name}) cannot give each rank its own shard; use a TensorDataLoader " +
                "(or a loader implementing Lightning.Distributed.IDistributedShard).");
        shardable.UseShard(ddp.Rank, ddp.WorldSize);
    }

    /// <summary>
    /// Under data-parallel training, every rank gets the same values: the mean across ranks for values logged with
    /// syncDist, rank 0's value for the others; so callbacks and schedulers take the same decisions on every rank.
    /// </summary>
    private List<KeyValuePair<string, double>> SyncAcrossRanks(List<KeyValuePair<string, double>> metrics, MetricStore store)
    {
        if (Distributed is not { WorldSize: > 1 } ddp || metrics.Count == 0) return metrics;
        var values = metrics.Select(m => m.Value).ToArray();
        ddp.Agree(values, metrics.Select(m => store.IsSynced(m.Key)).ToArray());
        return metrics.Select((m, i) => new KeyValuePair<string, double>(m.Key, values[i])).ToList();
    }

    /// <summary>Under data-parallel training, a stop asked on any rank stops every rank at the same batch (no rank left waiting).</summary>
    internal bool AgreeOnStop()
    {
        if (Distributed is { WorldSize: > 1 } ddp) ShouldStop = ddp.AnyStops(ShouldStop);
        return ShouldStop;
    }

    /// <summary>The trainer's callbacks for a fit: the user's, then the defaults Lightning adds (checkpointing, summary, timer).</summary>
    private List<ICallback> FitCallbacks(bool fastDev)
    {
        var callbacks = new List<ICallback>();
        if (Options.EnableModelSummary && !fastDev && IsGlobalZero && !Options.Callbacks.OfType<Callbacks.ModelSummary>().Any()) callbacks.Add(new Callbacks.ModelSummary());
        callbacks.AddRange(Options.Callbacks);
        if (Options.EnableCheckpointing && !fastDev && !Options.Callbacks.OfType<Callbacks.ModelCheckpoint>().Any()) callbacks.Add(new Callbacks.ModelCheckpoint());
        if (Options.MaxTime is TimeSpan maxTime) callbacks.Add(new Callbacks.Timer { Duration = maxTime });
        // Lightning's CallbackConnector._reorder_callbacks: checkpoint callbacks last (in their own order), so a checkpoint
        // holds what the other callbacks (EarlyStopping, a Timer) decided at the same hook.
        var ordered = callbacks.Where(c => c is not Callbacks.ModelCheckpoint).Concat(callbacks.OfType<Callbacks.ModelCheckpoint>()).ToList();
        // Lightning's _validate_callbacks_list: a state key names one callback's state in a checkpoint, so it must be unique.
        var clash = ordered.Select(c => c.StateKey).Where(k => k is not null).GroupBy(k => k).FirstOrDefault(g => g.Count() > 1);
        if (clash is not null)
            throw new LightningException(
                $"Two callbacks have the state key '{clash.Key}', so their states would overwrite each other in checkpoints; give them different " +
                "settings (e.g. another Monitor or Mode) or keep one.");
        return ordered;
    }

    /// <summary>Lightning's default logger (CSV, as when TensorBoard is not installed) and the curves' PNG at the end.</summary>
    private static List<ILightningLogger> DefaultLoggers() => new() { new CsvLogger(), new PlotLogger() };

    /// <summary>True when epoch <paramref name="epoch"/> (from 0) validates, per <see cref="TrainerOptions.CheckValEveryNEpoch"/>.</summary>
    private bool ValidationEpoch(int epoch) => Options.FastDevRun > 0 || Options.CheckValEveryNEpoch is not int n || (epoch + 1) % n == 0;

    /// <summary>Training batches between validations within epochs; <see cref="long.MaxValue"/> when validation runs only at epoch ends.</summary>
    private long ValCheckBatches(long epochBatches)
    {
        var interval = Options.ValCheckInterval;
        if (interval == BatchLimit.All) return long.MaxValue;
        if (interval.Count is long n)
        {
            if (Options.CheckValEveryNEpoch is not null && epochBatches != long.MaxValue && n > epochBatches)
                throw new LightningException(
                    $"TrainerOptions.ValCheckInterval is {n} batches, more than the {epochBatches} training batches of an epoch: lower it, or set " +
                    "CheckValEveryNEpoch = null to count batches across epochs.");
            return n;
        }
        if (epochBatches == long.MaxValue)
            throw new LightningException("TrainerOptions.ValCheckInterval is a fraction of an epoch, but the training loader's length is unknown; give a number of batches instead.");
        return Math.Max(1, (long)Math.Floor(epochBatches * interval.Fraction!.Value));
    }

    /// <summary>After each training batch's scope: validation within the epoch when due.</summary>
    internal void AfterTrainingBatch(long batchIdx)
    {
        var run = _run!;
        if (run.Validate is null || run.ValCheckBatches == long.MaxValue || !ValidationEpoch(CurrentEpoch)) return;
        long count = Options.CheckValEveryNEpoch is null ? Iteration : batchIdx + 1;
        if (count % run.ValCheckBatches == 0) ValidateWithinFit(run);
    }

    /// <summary>A validation run during a fit: hooks, published metrics, loggers; the training epoch's metrics continue after it.</summary>
    private void ValidateWithinFit(FitRun run)
    {
        run.Callbacks.EvaluationStart(Stage.Validate);
        var metrics = SyncAcrossRanks(run.Validate!(), run.Module.Metrics);
        Publish(metrics);
        run.EpochValidation = metrics;
        LastEpochValidated = true;
        HasValidated = true;
        if (run.Loggers.Count > 0)
        {
            var logged = new Dictionary<string, double>(StringComparer.Ordinal);
            foreach (var (name, value) in metrics) logged[name] = value;
            foreach (var logger in run.Loggers) logger.LogMetrics(logged, GlobalStep, CurrentEpoch);
        }
        run.Callbacks.EvaluationEnd(Stage.Validate);
        run.Module.Metrics.ContinueRun(run.TrainingRun, Stage.Fit, training: true);
    }

    /// <summary>After a batch that stepped the optimizer: the step values for the loggers every <see cref="TrainerOptions.LogEveryNSteps"/> steps.</summary>
    internal void AfterOptimizerStepInBatch(MetricStore metrics)
    {
        var run = _run!;
        if (run.Loggers.Count == 0 || GlobalStep % Options.LogEveryNSteps != 0) return;
        var values = new Dictionary<string, double>(StringComparer.Ordinal);
        metrics.StepValues(values);
        if (values.Count == 0) return;
        foreach (var logger in run.Loggers) logger.LogMetrics(values, GlobalStep, CurrentEpoch);
    }

    /// <summary>
    /// Sends <paramref name="metrics"/> to the fit's loggers and makes them the latest <see cref="CallbackMetrics"/>
    /// (e.g. a learning-rate monitor's values).
    /// </summary>
    public void LogMetrics(IReadOnlyDictionary<string, double> metrics)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        foreach (var (name, value) in metrics) _callbackMetrics[name] = value;
        if (_run is { } run)
            foreach (var logger in run.Loggers) logger.LogMetrics(metrics, GlobalStep, CurrentEpoch);
    }

    // ---------------------------------------------------------------- checkpoints and resume

    /// <summary>
    /// Writes the module of the current (or last) fit to <paramref name="path"/> as one safetensors file, atomically:
    /// weights, hyperparameters and, during a fit, everything resuming needs (loop position, optimizer, scheduler,
    /// callback states, metrics, random state). Reload the module with the generated <c>Foo.LoadFromCheckpoint(path)</c>,
    /// or resume with <c>Fit(..., ckptPath: path)</c>.
    /// </summary>
    public void SaveCheckpoint(string path)
    {
        var module = Module ?? throw new LightningException("SaveCheckpoint: this trainer has not run a module yet (call Fit first).");
        if (!IsGlobalZero) return;   // data-parallel: the ranks hold the same weights; rank 0 writes
        if (Optimizer is null) { Checkpoint.Save(path, module); return; }
        var run = _run ?? _lastRun ?? throw new LightningException("SaveCheckpoint: this trainer has not run a fit yet.");
        Checkpoint.Save(path, module, new TrainingState(
            Epoch: CurrentEpoch,
            GlobalStep: GlobalStep,
            BatchInEpoch: run.Loop?.BatchesRun ?? 0,
            EpochFinished: run.EpochFinished,
            EpochEndDone: run.EpochEndDone,
            Iteration: Iteration,
            Optimizer: Optimizer,
            SchedulerJson: Json(run.Scheduler.SaveState),
            CallbacksJson: Json(w => WriteCallbackStates(w, run.Callbacks.All)),
            CallbackMetricsJson: Json(w =>
            {
                w.WriteStartObject();
                foreach (var (name, value) in _callbackMetrics)
                    if (double.IsFinite(value)) w.WriteNumber(name, value);
                w.WriteEndObject();
            })));
    }

    private static void WriteCallbackStates(Utf8JsonWriter writer, IEnumerable<ICallback> callbacks)
    {
        writer.WriteStartObject();
        foreach (var c in callbacks)
        {
            if (c.StateKey is not string key) continue;
            writer.WritePropertyName(key);
            c.SaveState(writer);
        }
        writer.WriteEndObject();
    }

    /// <summary>
    /// Gives each callback its saved state. A saved state that matches no callback of this fit (a callback renamed or
    /// left out) is a warning naming it, as Lightning's, or an error with <see cref="TrainerOptions.StrictCallbackStates"/>.
    /// A callback's own reading of its state fails as a CheckpointException naming the file and the callback.
    /// </summary>
    private void RestoreCallbackStates(CallbackList callbacks, JsonElement states, string path)
    {
        CheckpointJson.Object(states, path, "callbacks");
        var keys = callbacks.All.Select(c => c.StateKey).Where(k => k is not null).Cast<string>().ToList();
        var unmatched = states.EnumerateObject().Select(p => p.Name).Where(name => !keys.Contains(name)).ToList();
        if (unmatched.Count > 0)
        {
            var text = $"its callback states {string.Join(", ", unmatched.Select(k => $"'{k}'"))} match no callback of this fit " +
                $"(callbacks with state: {(keys.Count == 0 ? "none" : string.Join(", ", keys.Select(k => $"'{k}'")))}), so they are not restored";
            if (Options.StrictCallbackStates) throw new CheckpointException(path, text + " (StrictCallbackStates is set)");
            if (IsGlobalZero) Out.WriteLine($"Warning: checkpoint '{path}': {text}.");
        }
        foreach (var c in callbacks.All)
        {
            if (c.StateKey is not string key || !states.TryGetProperty(key, out var state)) continue;
            try { c.LoadState(state, path); }
            catch (Exception e) when (e is InvalidOperationException or FormatException or OverflowException or ArgumentException or KeyNotFoundException)
            {
                throw new CheckpointException(path, $"the state of callback '{key}' could not be read ({e.Message})", e);
            }
        }
    }

    /// <summary>A resume with hyperparameters other than the checkpoint's is allowed (e.g. a new learning rate), and said.</summary>
    private void WarnOfOtherHyperparameters(Checkpoint resume, ILightningModule model)
    {
        using var saved = resume.JsonMetadata("hparams") ?? throw new CheckpointException(resume.Path, "its metadata has no 'hparams'");
        using var now = JsonDocument.Parse(HyperParameterJson.ToJson(model.HyperParameters));
        var root = CheckpointJson.Object(saved.RootElement, resume.Path, "hparams");
        var changed = now.RootElement.EnumerateObject()
            .Where(p => !root.TryGetProperty(p.Name, out var v) || v.GetRawText() != p.Value.GetRawText())
            .Select(p => $"{p.Name}={p.Value.GetRawText()} (checkpoint: {(root.TryGetProperty(p.Name, out var v) ? v.GetRawText() : "none")})")
            .ToList();
        if (changed.Count > 0 && IsGlobalZero) Out.WriteLine($"Resuming {model.ModuleTypeName} with hyperparameters other than the checkpoint's: {string.Join(", ", changed)}.");
    }

    private static void RemoveRunFolder(string dir)
    {
        try { if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { /* leave it: nothing of value is in it */ }
    }

    private static string Json(Action<Utf8JsonWriter> write)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer)) write(writer);
        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>Opens the checkpoint a fit resumes from: a path, or "last" / "best" of the fit's ModelCheckpoints (<see cref="CheckpointPath"/>).</summary>
    private Checkpoint OpenResumeCheckpoint(ILightningModule model, string ckptPath)
    {
        // In-process fits look only at their own ModelCheckpoints' files (another module's runs may share lightning_logs).
        var path = CheckpointPath.Resolve(ckptPath, Options.Callbacks.OfType<Callbacks.ModelCheckpoint>().ToList(), defaultRootDir: null);
        var checkpoint = Checkpoint.Open(path, model.ModuleTypeName);
        if (!checkpoint.CanResume)
            throw new CheckpointException(path, "it holds weights only (no optimizer and random state), so a fit cannot resume from it; load it with LoadFromCheckpoint instead");
        return checkpoint;
    }

    // ---------------------------------------------------------------- log folder

    private string? _logDir;

    /// <summary>
    /// The folder of the current fit's logs and default checkpoints, <c>&lt;DefaultRootDir&gt;/lightning_logs/version_N</c>
    /// with the next free N; created on first use.
    /// </summary>
    public string LogDir => _logDir ??= LogDirectory.Create(Options.DefaultRootDir);

    private static int VersionOf(string dir) =>
        LogDirectory.TryParseVersion(Path.GetFileName(dir), out int version) ? version : throw new LightningException($"'{dir}' is not a lightning_logs/version_N folder.");

    // ---------------------------------------------------------------- overfit batches

    /// <summary>The first <paramref name="count"/> batches, in loader order (epoch 0, no reshuffle), kept for every epoch.</summary>
    private static List<TBatch> FirstBatches<TBatch>(IEnumerable<TBatch> train, long count)
    {
        if (train is IEpochAware epochAware) epochAware.SetEpoch(0);
        var batches = new List<TBatch>();
        foreach (var batch in train)
        {
            if (batches.Count >= count) break;
            batches.Add(batch);
        }
        return batches;
    }

    /// <summary>Sets TorchSharp's default floating-point type for a run in another precision, and restores it afterwards.</summary>
    private readonly struct DefaultFloatType : IDisposable
    {
        private readonly ScalarType? _previous;

        public DefaultFloatType(ScalarType type)
        {
            _previous = null;
            if (type == ScalarType.Float32) return;
            _previous = get_default_dtype();
            set_default_dtype(type);
        }

        public void Dispose()
        {
            if (_previous is ScalarType previous) set_default_dtype(previous);
        }
    }
}
