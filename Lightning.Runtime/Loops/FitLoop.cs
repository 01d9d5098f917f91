using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text.Json;
using Lightning.Checkpoints;
using Lightning.Distributed;
using Lightning.Loggers;
using Lightning.Profiling;
using TorchSharp;
using Lightning.Callbacks;
using Lightning.Data;
using Lightning.Reporting;

namespace Lightning.Loops;

/// <summary>
/// One fit, as Lightning's <c>FitLoop</c>: it owns the epochs, decides when validation is due and when to stop, resumes
/// from a checkpoint, and advances <see cref="Progress"/>, the one record of where the fit is. The trainer builds it
/// (connecting data, optimizer, callbacks and loggers) and only reads it afterwards. Its order of hooks is docs/hooks.md.
/// </summary>
internal sealed class FitLoop
{
    private readonly Trainer _trainer;
    private readonly ILightningModule _module;
    private readonly IFitData _data;
    private readonly Optimization _optimization;
    private readonly MetricBoard _metrics;
    private readonly DataParallel? _ddp;
    private readonly ProgressBar? _progressBar;
    private readonly TrainerOptions _options;
    private readonly TextWriter _out;
    private readonly bool _fastDev;
    private readonly int _maxEpochs;
    private readonly long _maxSteps;
    private readonly long _epochBatches;
    private readonly BatchLimit _valLimit;
    private readonly long _valCheckBatches;
    private readonly TrainingLoop _loop;
    private readonly FitInterrupts? _interrupts;
    private List<KeyValuePair<string, double>>? _epochValidation;
    private bool _stoppedBySignal;
    private List<MetricStore.SavedSlot>? _resumedEpochMetrics;   // a mid-epoch checkpoint's running values, for the resumed epoch

    public FitLoop(Trainer trainer, ILightningModule module, IFitData data, Optimization optimization, CallbackList callbacks,
        List<ILightningLogger> loggers, bool ownsLoggers, MetricBoard metrics, DataParallel? ddp, ProgressBar? progressBar, BatchTransfer transfer,
        bool overfit, FitInterrupts? interrupts, SimpleProfiler? profiler = null)
    {
        Profiler = profiler;
        _loggerActions = profiler is null ? null : loggers.Select(l => profiler.Register($"[Logger]{l.GetType().Name}.log_metrics")).ToArray();
        _interrupts = interrupts;
        _trainer = trainer;
        _module = module;
        _data = data;
        _optimization = optimization;
        _metrics = metrics;
        _ddp = ddp is { WorldSize: > 1 } ? ddp : null;
        _progressBar = progressBar;
        _options = trainer.Options;
        _out = trainer.Output;
        Callbacks = callbacks;
        Loggers = loggers;
        OwnedLoggers = ownsLoggers ? loggers : new List<ILightningLogger>();
        Scheduler = new SchedulerRunner(metrics, optimization, module.ModuleTypeName);

        _fastDev = _options.FastDevRun > 0;
        _maxEpochs = _options.MaxEpochs == -1 ? int.MaxValue : _options.ResolvedMaxEpochs;
        _maxSteps = _fastDev ? _options.FastDevRun : _options.MaxSteps;
        var trainLimit = _fastDev ? BatchLimit.Batches(_options.FastDevRun) : overfit ? BatchLimit.All : _options.LimitTrainBatches;
        _valLimit = _fastDev ? BatchLimit.Batches(_options.FastDevRun) : overfit ? BatchLimit.All : _options.LimitValBatches;
        _epochBatches = trainLimit.Resolve(data.TrainCount);
        // fast_dev_run validates once at the end of its one epoch (Lightning's trainer/setup.py sets val_check_interval = 1.0
        // and check_val_every_n_epoch = 1).
        _valCheckBatches = _fastDev ? long.MaxValue : ValCheckBatches(_epochBatches);
        _loop = new TrainingLoop(this, module, optimization.Optimizer, transfer, progressBar, callbacks, Scheduler, _options, profiler: profiler);
        _transfer = transfer;
    }

    private readonly BatchTransfer _transfer;
    private readonly int[]? _loggerActions;   // under a profiler: each logger's log_metrics action

    /// <summary>The fit's profiler (<see cref="TrainerOptions.Profiler"/>), or null.</summary>
    public SimpleProfiler? Profiler { get; }

    /// <summary>
    /// Runs the training steps over the fit's training batches (the epoch's batch limit) in train mode without gradients:
    /// no backward, no optimizer step, no batch hooks, no change of <see cref="Progress"/> or published metrics; only buffers
    /// such as BatchNorm's running statistics change. For StochasticWeightAveraging's BatchNorm pass (Lightning runs it as
    /// one more epoch, so the loader gets that epoch's order).
    /// </summary>
    internal void RunTrainingForwardPass()
    {
        var loop = new TrainingLoop(this, _module, _optimization.Optimizer, _transfer, progress: null, Callbacks, Scheduler, _options, forwardOnly: true);
        _data.SetEpoch(Progress.Epoch + 1);
        _module.Metrics.BeginRun(Stage.Fit, training: true);   // what the steps log is not published
        loop.BeginEpoch(0, _epochBatches, maxSteps: -1);
        using (torch.no_grad()) _data.RunEpoch(0, loop);
    }

    /// <summary>Where the fit is: epoch, batch, steps, validation state, the stop flag.</summary>
    public FitProgress Progress { get; } = new();

    public CallbackList Callbacks { get; }

    public SchedulerRunner Scheduler { get; }

    public List<ILightningLogger> Loggers { get; }

    /// <summary>The loggers this fit made (the defaults), disposed when it ends.</summary>
    public List<ILightningLogger> OwnedLoggers { get; }

    public torch.optim.Optimizer Optimizer => _optimization.Optimizer;

    /// <summary>The fit validates (Lightning's <c>trainer.enable_validation</c>).</summary>
    public bool HasValidation => _data.HasValidation;

    /// <summary>The module's metric run of the current training epoch (an evaluation inside the fit continues it afterwards).</summary>
    public int TrainingRun { get; private set; }

    /// <summary>
    /// Runs the fit: resume (the checkpoint is opened and checked before anything is created or changed), sanity check,
    /// epochs with their validations, hooks and loggers.
    /// </summary>
    public void Run(string? ckptPath)
    {
        Profiler?.Start();
        Checkpoint? resume = ckptPath is null ? null : OpenResumeCheckpoint(ckptPath);
        var position = resume?.ReadPosition(_module.AutomaticOptimization);
        using var schedulerState = resume?.JsonMetadata("scheduler");
        using var savedMetrics = resume?.JsonMetadata("callback_metrics");
        using var callbackStates = resume?.JsonMetadata("callbacks");
        using var epochMetrics = resume is { EpochFinished: false } ? resume.JsonMetadata("epoch_metrics") : null;
        _resumedEpochMetrics = epochMetrics is null ? null : MetricStore.ReadRun(epochMetrics.RootElement, resume!.Path);
        resume?.CheckRandomState();
        if (resume is not null) WarnOfOtherHyperparameters(resume);

        foreach (var logger in Loggers)
        {
            long started = Profiler is null ? 0 : SimpleProfiler.Now();
            logger.Start(_trainer.LogDir, _module.HyperParameters);
            if (Profiler is not null) Profiler.Add(Profiler.Register($"[Logger]{logger.GetType().Name}.log_hyperparams"), started);
        }

        int startEpoch = 0;
        long startBatch = 0;
        if (resume is not null && position is not null)
        {
            CkptPath = resume.Path;
            resume.LoadWeights(_module.Module);
            // Replay the scheduler's steps first (TorchSharp's schedulers have no state dict); the optimizer state
            // restored next then sets the exact learning rates that were saved.
            if (schedulerState is not null) Scheduler.Replay(schedulerState.RootElement, resume.Path, position);
            else if (_optimization.Scheduler is not null)
                throw new CheckpointException(resume.Path, "its metadata has no 'scheduler' step history (an older Lightning wrote it), so a fit with a learning-rate scheduler cannot resume from it exactly");
            resume.RestoreOptimizer(_optimization.Optimizer);
            Progress.ResumeAt(position);
            if (savedMetrics is not null)
                _metrics.Publish(CheckpointJson.Object(savedMetrics.RootElement, resume.Path, "callback_metrics").EnumerateObject()
                    .Select(p => new KeyValuePair<string, double>(p.Name, CheckpointJson.Number(p.Value, resume.Path, "callback_metrics." + p.Name))).ToList());
            (startEpoch, startBatch) = position.EpochFinished ? (position.Epoch + 1, 0L) : (position.Epoch, position.BatchInEpoch);
        }

        Callbacks.FitStart();
        if (resume is not null && callbackStates is not null)
        {
            RestoreCallbackStates(callbackStates.RootElement, resume.Path);
            CheckpointTensors.Restore(Callbacks.All, resume, callbackStates.RootElement);   // ICheckpointTensors callbacks' tensors
        }

        // Sanity check: a few validation batches before training, so a bug there shows up in seconds. At most the
        // batches a validation run has (Lightning's evaluation_loop: min(num_sanity_val_steps, max_batches)), and none
        // when that is 0 (Lightning's _run_sanity_check needs limit_val_batches > 0).
        long sanityBatches = !HasValidation || _fastDev || _options.NumSanityValSteps == 0 ? 0
            : Math.Min(_options.NumSanityValSteps < 0 ? long.MaxValue : _options.NumSanityValSteps, _valLimit.Resolve(_data.ValCount));
        if (sanityBatches > 0)
        {
            Callbacks.SanityCheckStart();
            long started = Profiler is null ? 0 : SimpleProfiler.Now();
            _data.Validate(BatchLimit.Batches(sanityBatches), "Sanity check", _progressBar, Callbacks);
            Profiler?.Add(ProfilerAction.RunSanityCheck, started);
            Callbacks.SanityCheckEnd();
        }

        if (resume is not null)
        {
            resume.RestoreRandomState();
            // A checkpoint written at the end of an epoch's validation comes before that epoch's plateau scheduler step.
            if (resume.EpochFinished && !resume.EpochEndDone && _module.AutomaticOptimization) Scheduler.AfterEpochEnd(resume.Epoch);
            // Epochs and batches are counted from 0, as everywhere (file names, metrics.csv, CurrentEpoch, the progress bar).
            _out.WriteLine($"Resumed from {resume.Path}: continuing at epoch {startEpoch}, batch {startBatch}, global step {Progress.GlobalStep}.");
        }

        _startIteration = Progress.Iteration;
        Callbacks.TrainStart();
        RunEpochs(startEpoch, startBatch);
        // SIGTERM/SIGINT: the fit ends here, at a batch boundary, with a checkpoint (Lightning raises SIGTERMException;
        // on_train_end does not run).
        if (_stoppedBySignal) throw Interrupted();
        Callbacks.TrainEnd();
        Callbacks.FitEnd();
    }

    private long _startIteration = -1;

    /// <summary>The fit ended (or failed) before its first training batch ran: a run folder it created holds nothing of value.</summary>
    public bool EndedBeforeFirstBatch => _startIteration < 0 || Progress.Iteration == _startIteration;

    /// <summary>The checkpoint this fit resumed from (Lightning's <c>trainer.ckpt_path</c>), or null; a ModelCheckpoint never deletes it.</summary>
    public string? CkptPath { get; private set; }


    private void RunEpochs(int startEpoch, long startBatch)
    {
        // "Epoch 3/14": epochs from 0 and the last epoch's number, as Lightning's rich progress bar.
        string epochsText = _maxEpochs == int.MaxValue ? "?" : (_maxEpochs - 1).ToString(System.Globalization.CultureInfo.InvariantCulture);
        for (int epoch = startEpoch; epoch < _maxEpochs; epoch++)
        {
            AgreeOnStops();
            if (SignalReceived) { _stoppedBySignal = true; return; }
            if ((Progress.ShouldStop && CanStopEarly(epoch)) || StepLimitReached) break;
            long firstBatch = epoch == startEpoch ? startBatch : 0;
            Progress.StartEpoch(epoch, firstBatch);
            _epochValidation = null;
            _data.SetEpoch(epoch);
            var started = Stopwatch.GetTimestamp();
            Callbacks.TrainEpochStart();
            _progressBar?.Start($"Epoch {epoch}/{epochsText}", _epochBatches == long.MaxValue ? null : _epochBatches);
            TrainingRun = _module.Metrics.BeginRun(Stage.Fit, training: true);
            if (_resumedEpochMetrics is not null)
            {
                _module.Metrics.RestoreRun(_resumedEpochMetrics, _transfer.Device);
                _resumedEpochMetrics = null;
            }
            _loop.BeginEpoch(firstBatch, _epochBatches, _maxSteps);
            long running = Profiler is null ? 0 : SimpleProfiler.Now();
            _data.RunEpoch(firstBatch, _loop);
            Profiler?.Add(ProfilerAction.RunTrainingEpoch, running);
            if (_stoppedBySignal) { _progressBar?.Clear(); return; }
            _loop.EndEpoch();
            // Lightning's _num_ready_batches_reached: epoch-interval schedulers step only after an epoch that ran all its batches.
            bool ranAllBatches = _epochBatches == long.MaxValue
                ? !((Progress.ShouldStop && CanStopEarly(epoch)) || StepLimitReached)
                : Progress.BatchInEpoch >= _epochBatches;
            if (ranAllBatches) _loop.EpochBatchesDone();
            Progress.EpochFinished = true;
            var epochMetrics = SyncAcrossRanks(_module.Metrics.RunMeans());
            if (Progress.BatchInEpoch == 0) { _progressBar?.Clear(); break; }   // no batches at all
            _metrics.Publish(epochMetrics);

            // Validation after the epoch, unless it ran within the epoch (ValCheckInterval).
            if (ValidationEpoch(epoch) && HasValidation && _valCheckBatches == long.MaxValue) Validate();
            if (_epochValidation is not null) epochMetrics.AddRange(_epochValidation);

            Callbacks.TrainEpochEnd();
            if (_module.AutomaticOptimization && ranAllBatches) Scheduler.AfterEpochEnd(epoch);
            Progress.EpochEndDone = true;
            _metrics.AddEpoch(epochMetrics);
            // The epoch's training values; its validation values went to the loggers when the validation ran.
            var logged = new Dictionary<string, double>(StringComparer.Ordinal) { ["epoch"] = epoch };
            foreach (var (name, value) in epochMetrics)
                if (_epochValidation is null || !_epochValidation.Any(v => v.Key == name)) logged[name] = value;
            SendToLoggers(logged, epoch);
            _progressBar?.Clear();
            if (_progressBar is not null)
                _out.WriteLine(Trainer.EpochLine(epoch, epochsText, epochMetrics, Stopwatch.GetElapsedTime(started)));
        }
    }

    private bool StepLimitReached => _maxSteps >= 0 && Progress.GlobalStep >= _maxSteps;

    /// <summary>
    /// Whether a requested stop may take effect after <paramref name="epochsDone"/> epochs: MinEpochs and MinSteps are met
    /// (Lightning's <c>FitLoop._can_stop_early</c>).
    /// </summary>
    internal bool CanStopEarly(int epochsDone) =>
        (_options.MinEpochs is not int minEpochs || epochsDone >= minEpochs) && (_options.MinSteps is not long minSteps || Progress.GlobalStep >= minSteps);

    /// <summary>
    /// Under data-parallel training, a stop asked on any rank (ShouldStop, or a signal) stops every rank at the same batch, so
    /// no rank is left waiting in a collective.
    /// </summary>
    private void AgreeOnStops()
    {
        if (_ddp is null) return;
        var (stop, signal) = _ddp.AnyStops(Progress.ShouldStop, SignalReceived);
        Progress.ShouldStop = stop;
        if (signal && !SignalReceived) _interrupts!.Request(15);
    }

    private bool SignalReceived => _interrupts is { Requested: true };

    /// <summary>
    /// True when the fit stops before the next batch: a signal was received and the batch would start a new optimizer step
    /// (<paramref name="atStepBoundary"/>: no gradients waiting under accumulation), or a requested stop may take effect.
    /// </summary>
    internal bool StopsNow(bool agreeAcrossRanks, bool atStepBoundary)
    {
        if (agreeAcrossRanks) AgreeOnStops();
        if (SignalReceived && atStepBoundary)
        {
            _stoppedBySignal = true;
            return true;
        }
        return Progress.ShouldStop && CanStopEarly(Progress.Epoch);
    }

    /// <summary>True when epoch <paramref name="epoch"/> (from 0) validates, per <see cref="TrainerOptions.CheckValEveryNEpoch"/>.</summary>
    private bool ValidationEpoch(int epoch) => _fastDev || _options.CheckValEveryNEpoch is not int n || (epoch + 1) % n == 0;

    /// <summary>Training batches between validations within epochs; <see cref="long.MaxValue"/> when validation runs only at epoch ends.</summary>
    private long ValCheckBatches(long epochBatches)
    {
        var interval = _options.ValCheckInterval;
        if (interval == BatchLimit.All) return long.MaxValue;
        if (interval.Count is long n)
        {
            if (_options.CheckValEveryNEpoch is not null && epochBatches != long.MaxValue && n > epochBatches)
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
        if (!HasValidation || _valCheckBatches == long.MaxValue || !ValidationEpoch(Progress.Epoch)) return;
        long count = _options.CheckValEveryNEpoch is null ? Progress.Iteration : batchIdx + 1;
        if (count % _valCheckBatches == 0) Validate();
    }

    /// <summary>A validation run during the fit: hooks, published metrics, loggers; the training epoch's metrics continue after it.</summary>
    private void Validate()
    {
        long started = Profiler is null ? 0 : SimpleProfiler.Now();
        Callbacks.EvaluationStart(Stage.Validate);
        var metrics = SyncAcrossRanks(_data.Validate(_valLimit, "Validation", _progressBar, Callbacks));
        _metrics.Publish(metrics);
        _epochValidation = metrics;
        Progress.EpochValidated = true;
        Progress.HasValidated = true;
        if (Loggers.Count > 0)
        {
            var logged = new Dictionary<string, double>(StringComparer.Ordinal);
            foreach (var (name, value) in metrics) logged[name] = value;
            SendToLoggers(logged, Progress.Epoch);
        }
        Callbacks.EvaluationEnd(Stage.Validate);
        _module.Metrics.ContinueRun(TrainingRun, Stage.Fit, training: true);
        Profiler?.Add(ProfilerAction.RunValidation, started);
    }

    /// <summary>After a batch that stepped the optimizer: the step values for the loggers every <see cref="TrainerOptions.LogEveryNSteps"/> steps.</summary>
    internal void AfterOptimizerStepInBatch(MetricStore metrics)
    {
        if (Loggers.Count == 0 || Progress.GlobalStep % _options.LogEveryNSteps != 0) return;
        var values = new Dictionary<string, double>(StringComparer.Ordinal);
        metrics.StepValues(values);
        if (values.Count == 0) return;
        SendToLoggers(values, Progress.Epoch);
    }

    /// <summary>Sends <paramref name="metrics"/> (e.g. a learning-rate monitor's) to the fit's loggers.</summary>
    internal void LogMetrics(IReadOnlyDictionary<string, double> metrics)
    {
        SendToLoggers(metrics, Progress.Epoch);
    }

    /// <summary>Sends <paramref name="values"/> at the current global step to every logger (each timed under a profiler).</summary>
    private void SendToLoggers(IReadOnlyDictionary<string, double> values, int epoch)
    {
        if (Profiler is null)
        {
            foreach (var logger in Loggers) logger.LogMetrics(values, Progress.GlobalStep, epoch);
            return;
        }
        for (int i = 0; i < Loggers.Count; i++)
        {
            long started = SimpleProfiler.Now();
            Loggers[i].LogMetrics(values, Progress.GlobalStep, epoch);
            Profiler.Add(_loggerActions![i], started);
        }
    }

    /// <summary>Averages gradients across ranks before the optimizer steps (data-parallel only).</summary>
    internal void AllReduceGradients(IReadOnlyList<TorchSharp.Modules.Parameter> parameters) => _ddp?.AllReduceGradients(parameters);

    internal bool Distributed => _ddp is not null;

    /// <summary>
    /// Under data-parallel training, every rank gets the same values: the mean across ranks for values logged with
    /// syncDist, rank 0's value for the others; so callbacks and schedulers take the same decisions on every rank.
    /// </summary>
    private List<KeyValuePair<string, double>> SyncAcrossRanks(List<KeyValuePair<string, double>> metrics)
    {
        if (_ddp is null || metrics.Count == 0) return metrics;
        var values = metrics.Select(m => m.Value).ToArray();
        _ddp.Agree(values, metrics.Select(m => _module.Metrics.IsSynced(m.Key)).ToArray());
        return metrics.Select((m, i) => new KeyValuePair<string, double>(m.Key, values[i])).ToList();
    }

    // ---------------------------------------------------------------- checkpoints and resume

    /// <summary>
    /// Writes a checkpoint to resume from after the last completed batch, as the last checkpoint of the fit's first
    /// ModelCheckpoint. Null when the fit has none (EnableCheckpointing off, a fast_dev_run, the learning-rate finder's sweep):
    /// a fit told not to write checkpoints writes none.
    /// </summary>
    public string? SaveForResume()
    {
        var checkpoint = Callbacks.All.OfType<Callbacks.ModelCheckpoint>().FirstOrDefault(c => c.ResolvedDirPath is not null);
        return _fastDev || checkpoint is null ? null : checkpoint.SaveForResume(_trainer);
    }

    /// <summary>The end of a fit stopped by a signal: its checkpoint, every rank together, and the exception that says where and how to resume.</summary>
    private FitInterruptedException Interrupted()
    {
        var p = Progress;
        string? path = SaveForResume();
        _ddp?.Barrier();
        var where = $"epoch {p.Epoch}, batch {p.BatchInEpoch}, global step {p.GlobalStep}";
        var message = path is null
            ? $"Stopped by {_interrupts!.SignalName} at {where}; no checkpoint (the fit has no ModelCheckpoint: checkpointing is off)."
            : $"Stopped by {_interrupts!.SignalName} at {where}; saved {path} to resume from.";
        return new FitInterruptedException(_interrupts.SignalName, _interrupts.ExitCode, path, message);
    }

    /// <summary>
    /// After a step (or hook) threw: a checkpoint of the state after the last completed batch, as Lightning's
    /// OnExceptionCheckpoint, when training had begun; a failure to write it is said and does not hide the first error.
    /// </summary>
    public void SaveAfterFailure(Exception failure)
    {
        if (EndedBeforeFirstBatch || failure is FitInterruptedException or OutOfMemoryException) return;
        try
        {
            if (SaveForResume() is string path && _trainer.IsGlobalZero)
                _out.WriteLine($"The fit failed at epoch {Progress.Epoch}, batch {Progress.BatchInEpoch} ({failure.GetType().Name}); saved {path}, " +
                    "the state after the last completed batch, to resume from.");
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            _out.WriteLine($"The fit failed, and no checkpoint could be saved after it: {e.GetType().Name}: {e.Message}");
        }
    }

    /// <summary>What a checkpoint written now holds besides the weights: the progress, optimizer, scheduler, callbacks and metrics.</summary>
    public TrainingState State()
    {
        var p = Progress.Position;
        var (callbackTensors, modelWeights) = CheckpointTensors.Collect(Callbacks.All, _module);   // ICheckpointTensors callbacks
        return new TrainingState(
            Epoch: p.Epoch,
            GlobalStep: p.GlobalStep,
            BatchInEpoch: p.BatchInEpoch,
            EpochFinished: p.EpochFinished,
            EpochEndDone: p.EpochEndDone,
            Iteration: p.Iteration,
            Optimizer: _optimization.Optimizer,
            SchedulerJson: Json(Scheduler.SaveState),
            CallbacksJson: Json(WriteCallbackStates),
            CallbackMetricsJson: Json(w =>
            {
                w.WriteStartObject();
                foreach (var (name, value) in _metrics.Latest)
                    if (double.IsFinite(value)) w.WriteNumber(name, value);
                w.WriteEndObject();
            }),
            CallbackTensors: callbackTensors,
            ModelWeights: modelWeights,
            // Within an epoch (its batches not all run), the epoch's running values; none before the fit's first epoch.
            EpochMetricsJson: Progress.EpochFinished || TrainingRun == 0 ? null : Json(w => _module.Metrics.WriteRun(w, TrainingRun)));
    }

    private void WriteCallbackStates(Utf8JsonWriter writer)
    {
        writer.WriteStartObject();
        foreach (var c in Callbacks.All)
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
    private void RestoreCallbackStates(JsonElement states, string path)
    {
        CheckpointJson.Object(states, path, "callbacks");
        var keys = Callbacks.All.Select(c => c.StateKey).Where(k => k is not null).Cast<string>().ToList();
        var unmatched = states.EnumerateObject().Select(p => p.Name).Where(name => !keys.Contains(name)).ToList();
        if (unmatched.Count > 0)
        {
            var text = $"its callback states {string.Join(", ", unmatched.Select(k => $"'{k}'"))} match no callback of this fit " +
                $"(callbacks with state: {(keys.Count == 0 ? "none" : string.Join(", ", keys.Select(k => $"'{k}'")))}), so they are not restored";
            if (_options.StrictCallbackStates) throw new CheckpointException(path, text + " (StrictCallbackStates is set)");
            if (_trainer.IsGlobalZero) _out.WriteLine($"Warning: checkpoint '{path}': {text}.");
        }
        foreach (var c in Callbacks.All)
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
    private void WarnOfOtherHyperparameters(Checkpoint resume)
    {
        using var saved = resume.JsonMetadata("hparams") ?? throw new CheckpointException(resume.Path, "its metadata has no 'hparams'");
        using var now = JsonDocument.Parse(HyperParameterJson.ToJson(_module.HyperParameters));
        var root = CheckpointJson.Object(saved.RootElement, resume.Path, "hparams");
        var changed = now.RootElement.EnumerateObject()
            .Where(p => !root.TryGetProperty(p.Name, out var v) || v.GetRawText() != p.Value.GetRawText())
            .Select(p => $"{p.Name}={p.Value.GetRawText()} (checkpoint: {(root.TryGetProperty(p.Name, out var v) ? v.GetRawText() : "none")})")
            .ToList();
        if (changed.Count > 0 && _trainer.IsGlobalZero) _out.WriteLine($"Resuming {_module.ModuleTypeName} with hyperparameters other than the checkpoint's: {string.Join(", ", changed)}.");
    }

    /// <summary>Opens the checkpoint the fit resumes from: a path, or "last" / "best" of the fit's ModelCheckpoints (<see cref="CheckpointPath"/>).</summary>
    private Checkpoint OpenResumeCheckpoint(string ckptPath)
    {
        // In-process fits look only at their own ModelCheckpoints' files (another module's runs may share lightning_logs).
        var path = CheckpointPath.Resolve(ckptPath, _options.Callbacks.OfType<Callbacks.ModelCheckpoint>().ToList(), defaultRootDir: null);
        var checkpoint = Checkpoint.Open(path, _module.ModuleTypeName);
        if (!checkpoint.CanResume)
            throw new CheckpointException(path, "it holds weights only (no optimizer and random state), so a fit cannot resume from it; load it with LoadFromCheckpoint instead");
        return checkpoint;
    }

    private static string Json(Action<Utf8JsonWriter> write)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer)) write(writer);
        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }
}
