using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Lightning.Checkpoints;
using Lightning.Loggers;
using Lightning.Loops;
using Lightning.Profiling;
using TorchSharp;
using static TorchSharp.torch;
using Lightning.Callbacks;
using Lightning.Data;
using Lightning.Reporting;

namespace Lightning;

// Setting up a fit (Lightning's trainer connectors): devices and data-parallel shards, the optimizer, callbacks in their
// order, loggers and the run folder; then the FitLoop runs it. Its order of hooks is docs/hooks.md.
public sealed partial class Trainer
{
    private FitLoop? _fit;       // the fit running now
    private FitLoop? _lastFit;   // the running or last fit: its progress, optimizer and state stay readable after Fit returns

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
        if (!model.AutomaticOptimization && (Options.AccumulateGradBatches != 1 || Options.GradientClipVal is not null))
            throw new LightningException(
                $"{model.ModuleTypeName} uses manual optimization, so the trainer does not step its optimizer: TrainerOptions.AccumulateGradBatches and " +
                "GradientClipVal cannot apply. Accumulate or clip in the training step (e.g. torch.nn.utils.clip_grad_norm_) instead.");

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
        _metrics.Clear();
        _logDir = null;
        if (Distributed is { WorldSize: > 1 } ranks)
        {
            // One run folder for the job: rank 0 picks and creates it, the others learn its number.
            long version = ranks.BroadcastFromZero(ranks.IsGlobalZero ? VersionOf(LogDir) : 0);
            if (!ranks.IsGlobalZero) _logDir = Path.Combine(Options.DefaultRootDir, "lightning_logs", "version_" + version.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        var progress = Options.EnableProgressBar && IsGlobalZero ? new ProgressBar(Out, Interactive) : null;
        var loggers = fastDev || !IsGlobalZero ? new List<ILightningLogger>() : Options.Loggers?.ToList() ?? DefaultLoggers();
        var transfer = new BatchTransfer(device, _floatType);
        // SIGTERM/SIGINT during the fit: stop at a batch boundary with a checkpoint (docs/preemption.md).
        using var interrupts = new FitInterrupts(Out);
        // profiler="simple": every action of the fit is timed, and the table printed at its end (docs/profiler.md).
        var profiler = Options.Profiler == ProfilerKind.Simple ? new SimpleProfiler(model.ModuleTypeName, Distributed is { WorldSize: > 1 }) : null;
        var fit = new FitLoop(this, model, new FitData<TBatch>(model, train, validation, val, transfer), optimization,
            new CallbackList(this, model, FitCallbacks(fastDev), profiler), loggers, ownsLoggers: Options.Loggers is null, _metrics, Distributed, progress,
            transfer, overfit: overfit > 0, interrupts, profiler);
        _fit = fit;
        _lastFit = fit;
        using var precision = new DefaultFloatType(_floatType);
        bool hadLogDir = _logDir is not null, failed = false;
        try
        {
            fit.Run(ckptPath);
            // Data-parallel: no rank leaves the fit before rank 0 has written its last files (a resume reads them).
            Distributed?.Barrier();
        }
        catch (Exception e)
        {
            failed = true;
            fit.SaveAfterFailure(e);
            fit.Callbacks.Exception(e);
            // A failure on one rank would leave the others waiting in a collective: end the whole job now. A signal is not a
            // failure: every rank agreed to stop at the same batch and leaves the fit together.
            if (e is not FitInterruptedException) Distributed?.AbortJob(e);
            throw;
        }
        finally
        {
            // A logger that cannot finish (a plot that cannot be drawn, a full disk) must not fail a fit whose
            // weights and checkpoints are already saved: say so and go on.
            foreach (var logger in loggers)
            {
                long finishing = profiler is null ? 0 : SimpleProfiler.Now();
                try { logger.Finish(); }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    Out.WriteLine($"Logger '{logger.Name}' could not finish: {e.GetType().Name}: {e.Message}");
                }
                profiler?.Add(profiler.Register($"[Logger]{logger.GetType().Name}.finalize"), finishing);
            }
            foreach (var logger in fit.OwnedLoggers) logger.Dispose();
            _fit = null;
            progress?.Clear();
            if (profiler is not null && IsGlobalZero && !(failed && fit.EndedBeforeFirstBatch)) ReportProfile(profiler, fastDev);
            // A fit that failed before its first training batch leaves no run folder of its own behind.
            if (failed && fit.EndedBeforeFirstBatch && !hadLogDir && _logDir is not null) RemoveRunFolder(_logDir);
        }
    }

    /// <summary>
    /// The profile of the current (or last) fit when <see cref="TrainerOptions.Profiler"/> is <see cref="ProfilerKind.Simple"/>
    /// (Lightning's <c>trainer.profiler</c>), else null: its <see cref="SimpleProfiler.Entries"/> and <see cref="SimpleProfiler.Summary"/>.
    /// </summary>
    public SimpleProfiler? Profiler => _lastFit?.Profiler;

    /// <summary>
    /// The end of a profiled fit: the table to the output and <c>profile.csv</c> in the run folder (none under fast_dev_run, which has
    /// no run folder). A file that cannot be written is said, and does not fail the fit.
    /// </summary>
    private void ReportProfile(SimpleProfiler profiler, bool fastDev)
    {
        profiler.Stop();
        Out.WriteLine();
        Out.Write(profiler.Summary());
        if (fastDev) return;
        var path = Path.Combine(LogDir, "profile.csv");
        try
        {
            profiler.WriteCsv(path);
            Out.WriteLine($"Profile written to {path}");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Out.WriteLine($"The profile could not be written to {path}: {e.Message}");
        }
    }

    /// <summary>True while a fit with validation batches runs (Lightning's <c>trainer.enable_validation</c>).</summary>
    public bool HasValidation => _fit?.HasValidation ?? false;

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

    /// <summary>
    /// Sends <paramref name="metrics"/> to the fit's loggers and makes them the latest <see cref="CallbackMetrics"/>
    /// (e.g. a learning-rate monitor's values).
    /// </summary>
    public void LogMetrics(IReadOnlyDictionary<string, double> metrics)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        _metrics.Publish(metrics);
        _fit?.LogMetrics(metrics);
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
        var fit = _lastFit;
        if (fit is null) { Checkpoint.Save(path, module); return; }
        long started = _fit?.Profiler is null ? 0 : SimpleProfiler.Now();
        Checkpoint.Save(path, module, fit.State());
        _fit?.Profiler?.Add(ProfilerAction.SaveCheckpoint, started);
    }

    private static void RemoveRunFolder(string dir)
    {
        try { if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { /* leave it: nothing of value is in it */ }
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
