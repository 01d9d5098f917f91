using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;

namespace Lightning.Tuning;

/// <summary>
/// Lightning's <c>Tuner</c> for a trainer (<see cref="Trainer.Tuner"/>): <see cref="LrFind{TBatch}(ILightningModule{TBatch}, LightningDataModule{TBatch}, double, double, int, LrFindMode, double?)"/>,
/// the learning-rate range test (Leslie Smith's, as fastai's and Lightning's <c>lr_find</c>).
/// </summary>
public sealed class Tuner
{
    private readonly Trainer _trainer;

    internal Tuner(Trainer trainer) => _trainer = trainer;

    /// <summary>
    /// Trains <paramref name="model"/> for up to <paramref name="numTraining"/> optimizer steps on the data module's training
    /// batches while raising the learning rate from <paramref name="minLr"/> to <paramref name="maxLr"/>, records the smoothed
    /// loss of each step, stops when it diverges (above <paramref name="earlyStopThreshold"/> times the best; null: never),
    /// and puts the module back exactly as it was. See docs/lr-finder.md.
    /// </summary>
    /// <returns>The rates and losses, the suggested rate (<see cref="LrFinderResult.Suggestion"/>) and the plot.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A rate, the step count or the threshold is out of range.</exception>
    /// <exception cref="LightningException">The trainer is fitting, uses data-parallel training, or the data module has no training batches.</exception>
    public LrFinderResult LrFind<TBatch>(ILightningModule<TBatch> model, LightningDataModule<TBatch> data, double minLr = 1e-8, double maxLr = 1,
        int numTraining = 100, LrFindMode mode = LrFindMode.Exponential, double? earlyStopThreshold = 4.0)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(data);
        Check(minLr, maxLr, numTraining, mode, earlyStopThreshold);
        if (Skipped(mode, minLr, maxLr, numTraining) is { } skipped) return skipped;
        data.PrepareData();
        data.Setup(Stage.Fit);
        try
        {
            var train = data.TrainDataLoader() ?? throw new LightningException(
                $"{data.GetType().Name}.TrainDataLoader() returned null: the learning-rate finder needs training batches.");
            return Sweep(model, train, minLr, maxLr, numTraining, mode, earlyStopThreshold);
        }
        finally { data.Teardown(Stage.Fit); }
    }

    /// <summary>
    /// As <see cref="LrFind{TBatch}(ILightningModule{TBatch}, LightningDataModule{TBatch}, double, double, int, LrFindMode, double?)"/>,
    /// on <paramref name="trainBatches"/>.
    /// </summary>
    public LrFinderResult LrFind<TBatch>(ILightningModule<TBatch> model, IEnumerable<TBatch> trainBatches, double minLr = 1e-8, double maxLr = 1,
        int numTraining = 100, LrFindMode mode = LrFindMode.Exponential, double? earlyStopThreshold = 4.0)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(trainBatches);
        Check(minLr, maxLr, numTraining, mode, earlyStopThreshold);
        return Skipped(mode, minLr, maxLr, numTraining) ?? Sweep(model, trainBatches, minLr, maxLr, numTraining, mode, earlyStopThreshold);
    }

    private static void Check(double minLr, double maxLr, int numTraining, LrFindMode mode, double? earlyStopThreshold)
    {
        if (!Enum.IsDefined(mode)) throw new ArgumentOutOfRangeException(nameof(mode), mode, "Expected LrFindMode.Exponential or LrFindMode.Linear.");
        // The rates reach the optimizer, which needs finite, non-negative values within float32's range; the exponential
        // sweep also divides by min_lr and takes powers of max_lr / min_lr, so it needs both positive.
        bool positive = mode == LrFindMode.Exponential;
        foreach (var (name, value) in new[] { (nameof(minLr), minLr), (nameof(maxLr), maxLr) })
            if (!double.IsFinite(value) || value > float.MaxValue || (positive ? value <= 0 : value < 0))
                throw new ArgumentOutOfRangeException(name, value, positive
                    ? "Expected a positive learning rate (the exponential sweep takes powers of maxLr / minLr)."
                    : "Expected a learning rate of 0 or more.");
        if (numTraining < 1) throw new ArgumentOutOfRangeException(nameof(numTraining), numTraining, "Expected at least 1 step.");
        if (earlyStopThreshold is double t && !(t > 0 && double.IsFinite(t)))
            throw new ArgumentOutOfRangeException(nameof(earlyStopThreshold), t, "Expected a positive number, or null for no early stop.");
    }

    /// <summary>fast_dev_run: no sweep, as Lightning ("Skipping learning rate finder since fast_dev_run is enabled").</summary>
    private LrFinderResult? Skipped(LrFindMode mode, double minLr, double maxLr, int numTraining)
    {
        if (_trainer.Options.FastDevRun == 0) return null;
        _trainer.Output.WriteLine("Skipping the learning-rate finder: FastDevRun is set.");
        return new LrFinderResult(mode, minLr, maxLr, numTraining, Array.Empty<double>(), Array.Empty<double>(), stoppedEarly: false);
    }

    private LrFinderResult Sweep<TBatch>(ILightningModule<TBatch> model, IEnumerable<TBatch> train, double minLr, double maxLr, int numTraining,
        LrFindMode mode, double? earlyStopThreshold)
    {
        if (_trainer.IsFitting)
            throw new LightningException("Tuner.LrFind cannot run inside a fit (e.g. from a callback): call it before Fit.");
        if (_trainer.Options.Strategy == Strategy.Ddp)
            throw new LightningException("Tuner.LrFind does not run under Strategy \"ddp\" yet: find the rate in a single process, then launch the data-parallel fit with it.");

        var finder = new LrFinderCallback(mode, minLr, maxLr, numTraining, earlyStopThreshold);
        // Before anything seeds, moves or trains the module (the sweep's trainer seeds when it is created).
        var snapshot = ModuleSnapshot.Take(model);
        try
        {
            var sweep = new Trainer(SweepOptions(numTraining, finder, model));
            sweep.Fit(new LrFinderModule<TBatch>(model, finder), train);
        }
        finally
        {
            // The optimizer first: putting the module back into its precision replaces the parameters' handles, which key
            // the optimizer's state.
            finder.RestoreOptimizer();
            snapshot.Restore();
        }

        var result = new LrFinderResult(mode, minLr, maxLr, numTraining, finder.LearningRates.ToArray(), finder.Losses.ToArray(), finder.StoppedEarly);
        if (result.StoppedEarly)
            _trainer.Output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"The learning-rate finder stopped early after {result.LearningRates.Count} steps: the loss diverged."));
        return result;
    }

    /// <summary>
    /// The sweep's trainer: the user's options (device, precision, seed, accumulation, clipping, batch limits) for a short fit
    /// of <paramref name="numTraining"/> optimizer steps, as Lightning's <c>__lr_finder_reset_params</c>: no checkpoints, no
    /// loggers, no validation, no progress bar or summary, and only the finder as callback (the module's own hooks still run).
    /// Epochs are not limited, so a loader shorter than the sweep is simply run again.
    /// </summary>
    private TrainerOptions SweepOptions(int numTraining, LrFinderCallback finder, ILightningModule model)
    {
        var callbacks = new List<ICallback> { finder };
        if (model is ICallback own) callbacks.Add(own);
        return _trainer.Options with
        {
            MaxSteps = numTraining,
            MaxEpochs = -1,
            MinEpochs = null,
            MinSteps = null,
            MaxTime = null,
            FastDevRun = 0,
            ValCheckInterval = BatchLimit.All,
            NumSanityValSteps = 0,
            EnableCheckpointing = false,
            EnableProgressBar = false,
            EnableModelSummary = false,
            Loggers = Array.Empty<Loggers.ILightningLogger>(),
            Callbacks = callbacks,
        };
    }
}
