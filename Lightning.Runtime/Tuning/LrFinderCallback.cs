using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using TorchSharp;
using TorchSharp.Modules;

namespace Lightning.Tuning;

/// <summary>
/// The finder's side of the sweep's fit, as Lightning's <c>_LRCallback</c> with its scheduler: before each training batch
/// it sets every param group's learning rate to the sweep's rate for the optimizer step about to happen (<see cref="LrSchedule"/>,
/// by <see cref="Trainer.GlobalStep"/>, so accumulated batches and manual optimization get the rate of their step); after
/// each batch that stepped the optimizer it records that rate and the smoothed loss, and stops the fit when the loss
/// diverges. It also keeps the optimizer's state from before the sweep, for <see cref="RestoreOptimizer"/>.
/// </summary>
internal sealed class LrFinderCallback : Callback
{
    /// <summary>The smoothing factor of the running loss (Lightning's <c>beta</c>).</summary>
    public const double Beta = 0.98;

    private readonly LrFindMode _mode;
    private readonly double _minLr;
    private readonly double _maxLr;
    private readonly int _numTraining;
    private readonly double? _earlyStopThreshold;
    private readonly List<double> _lrs = new();
    private readonly List<double> _losses = new();
    private readonly LossSmoother _smoother;
    private torch.optim.Optimizer? _optimizer;
    private byte[]? _optimizerState;
    private long _stepAtBatchStart;
    private double _batchLr;

    public LrFinderCallback(LrFindMode mode, double minLr, double maxLr, int numTraining, double? earlyStopThreshold)
    {
        _mode = mode;
        _minLr = minLr;
        _maxLr = maxLr;
        _numTraining = numTraining;
        _earlyStopThreshold = earlyStopThreshold;
        _smoother = new LossSmoother(earlyStopThreshold);
    }

    /// <summary>The rate of each recorded step (Lightning's <c>results["lr"]</c>).</summary>
    public IReadOnlyList<double> LearningRates => _lrs;

    /// <summary>The smoothed loss of each recorded step (Lightning's <c>results["loss"]</c>).</summary>
    public IReadOnlyList<double> Losses => _losses;

    /// <summary>True when the sweep stopped because the loss diverged.</summary>
    public bool StoppedEarly => _smoother.Diverged;

    /// <summary>
    /// Takes the optimizer the sweep will step and keeps its state (param groups' hyperparameters, per-parameter state) as
    /// TorchSharp serializes it, so that an optimizer that <c>[ConfigureOptimizers]</c> returns again later (one kept in a
    /// field) is the same after the sweep as before it.
    /// </summary>
    public void Attach(torch.optim.Optimizer optimizer)
    {
        _optimizer = optimizer;
        if (optimizer is not OptimizerHelper helper) return;
        using var buffer = new MemoryStream();
        using (var writer = new BinaryWriter(buffer, System.Text.Encoding.UTF8, leaveOpen: true)) helper.save_state_dict(writer);
        _optimizerState = buffer.ToArray();
    }

    /// <summary>Puts the optimizer's hyperparameters and state back as <see cref="Attach"/> found them.</summary>
    public void RestoreOptimizer()
    {
        if (_optimizer is not OptimizerHelper helper || _optimizerState is null) return;
        using var reader = new BinaryReader(new MemoryStream(_optimizerState));
        helper.load_state_dict(reader);
    }

    public override void OnFitStart(Trainer trainer, ILightningModule module)
    {
        // Lightning's _exchange_scheduler: every group starts at min_lr (and its initial rate too).
        foreach (var group in Groups(trainer))
        {
            group.LearningRate = _minLr;
            group.InitialLearningRate = _minLr;
        }
    }

    public override void OnTrainBatchStart(Trainer trainer, ILightningModule module, long batchIdx)
    {
        _stepAtBatchStart = trainer.GlobalStep;
        _batchLr = LrSchedule.At(_mode, _minLr, _maxLr, _numTraining, trainer.GlobalStep);
        foreach (var group in Groups(trainer)) group.LearningRate = _batchLr;
    }

    public override void OnTrainBatchEnd(Trainer trainer, ILightningModule module, torch.Tensor? loss, long batchIdx)
    {
        // Only batches that ended with an optimizer step count (Lightning skips the others of an accumulation).
        if (trainer.GlobalStep == _stepAtBatchStart) return;
        _lrs.Add(_batchLr);
        // A (manually optimized) step that returned no loss gets NaN, which the suggestion leaves out (as Lightning).
        double smoothed = loss is null ? double.NaN : _smoother.Add(loss.ToDouble(), trainer.GlobalStep);
        _losses.Add(smoothed);
        if (_smoother.Diverged) trainer.ShouldStop = true;
    }

    private IEnumerable<torch.optim.ILearningRateController> Groups(Trainer trainer) =>
        (_optimizer ?? trainer.Optimizer ?? throw new InvalidOperationException("The learning-rate finder has no optimizer.")).ParamGroups;
}

/// <summary>
/// Lightning's running loss and divergence rule (<c>_LRCallback.on_train_batch_end</c>): an exponential moving average with
/// bias correction, <c>avg = beta * avg + (1 - beta) * loss</c>, <c>smoothed = avg / (1 - beta^(step + 1))</c>, where
/// <c>step</c> is the trainer's global step after the optimizer step (1 at the first batch, so the first correction divides by
/// <c>1 - beta^2</c>, as Lightning does); the sweep diverges when <c>step &gt; 1</c> and <c>smoothed &gt; threshold * best</c>,
/// <c>best</c> being the lowest smoothed loss so far (the first one at step 1). One addition: with a threshold, a smoothed loss
/// that is NaN or infinite also ends the sweep (Lightning would run on, recording only NaN).
/// </summary>
internal sealed class LossSmoother(double? threshold, double beta = LrFinderCallback.Beta)
{
    private double _average;
    private double _best;

    /// <summary>True once the loss diverged.</summary>
    public bool Diverged { get; private set; }

    /// <summary>Adds the loss of the step that made the global step <paramref name="step"/>; returns the smoothed loss.</summary>
    public double Add(double loss, long step)
    {
        _average = beta * _average + (1 - beta) * loss;
        double smoothed = _average / (1 - Math.Pow(beta, step + 1));
        if (threshold is double t && step > 1 && (smoothed > t * _best || !double.IsFinite(smoothed))) Diverged = true;
        if (smoothed < _best || step == 1) _best = smoothed;
        return smoothed;
    }
}
