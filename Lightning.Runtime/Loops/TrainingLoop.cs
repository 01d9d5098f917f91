using System.Collections.Generic;
using System.Linq;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Lightning;

/// <summary>
/// The trainer's side of one training epoch. The generated <c>RunTrainingEpoch</c> of a module calls these
/// methods directly around each batch; everything here is cheap bookkeeping, except the backward pass and the
/// optimizer step themselves.
/// </summary>
public sealed class TrainingLoop
{
    private readonly Trainer _trainer;
    private readonly MetricStore _metrics;
    private readonly torch.optim.Optimizer _optimizer;
    private readonly ProgressBar? _progress;
    private readonly IReadOnlyList<Parameter> _parameters;
    private readonly int _accumulate;
    private readonly double? _clip;
    private readonly bool _clipByValue;
    private long _batchLimit;
    private long _maxSteps;
    private long _batchIdx;
    private int _pending;   // batches whose gradients wait for the next optimizer step

    internal TrainingLoop(Trainer trainer, MetricStore metrics, torch.optim.Optimizer optimizer, Device device, ProgressBar? progress,
        IEnumerable<Parameter> parameters, TrainerOptions options)
    {
        _trainer = trainer;
        _metrics = metrics;
        _optimizer = optimizer;
        _progress = progress;
        Device = device;
        _parameters = parameters.ToList();
        _accumulate = options.AccumulateGradBatches;
        _clip = options.GradientClipVal;
        _clipByValue = options.GradientClipAlgorithm == "value";
    }

    /// <summary>The device batches are moved to.</summary>
    public Device Device { get; }

    /// <summary>The optimizer from <c>[ConfigureOptimizers]</c> (what a manually optimized module steps itself).</summary>
    public torch.optim.Optimizer Optimizer => _optimizer;

    /// <summary>Batches run in the current epoch so far.</summary>
    public long BatchesRun { get; private set; }

    internal void BeginEpoch(long batchLimit, long maxSteps)
    {
        _batchLimit = batchLimit;
        _maxSteps = maxSteps;
        _pending = 0;
        BatchesRun = 0;
    }

    /// <summary>True when batch <paramref name="batchIdx"/> should run: within the batch limit, the step limit, and no stop was requested.</summary>
    public bool ShouldRunBatch(long batchIdx) =>
        batchIdx < _batchLimit && !_trainer.ShouldStop && (_maxSteps < 0 || _trainer.GlobalStep < _maxSteps);

    /// <summary>Called after the batch is on the device, before the training step.</summary>
    public void OnBatchStart(long batchIdx, long batchSize)
    {
        _batchIdx = batchIdx;
        _metrics.BeginStep(batchSize);
    }

    /// <summary>
    /// Backpropagates <paramref name="loss"/> (divided by <see cref="TrainerOptions.AccumulateGradBatches"/>);
    /// returns false (nothing to do) when the step returned null.
    /// </summary>
    public bool Backward(Tensor? loss)
    {
        if (loss is null) return false;
        if (_accumulate == 1) loss.backward();
        else
        {
            using var scaled = loss / _accumulate;
            scaled.backward();
        }
        _pending++;
        return true;
    }

    /// <summary>
    /// Steps the optimizer (after clipping) and clears the gradients, once every
    /// <see cref="TrainerOptions.AccumulateGradBatches"/> batches and at the last batch of the epoch.
    /// </summary>
    public void OptimizerStep()
    {
        if (_pending % _accumulate != 0 && _batchIdx + 1 != _batchLimit) return;
        Step();
    }

    /// <summary>Steps for gradients still accumulated when the epoch's batches ran out.</summary>
    internal void EndEpoch()
    {
        if (_pending > 0) Step();
    }

    private void Step()
    {
        if (_clip is double clip)
        {
            if (_clipByValue) torch.nn.utils.clip_grad_value_(_parameters, clip);
            else torch.nn.utils.clip_grad_norm_(_parameters, clip);
        }
        _optimizer.step();
        _optimizer.zero_grad();
        _pending = 0;
        _trainer.GlobalStep++;
    }

    /// <summary>Counts a step of a module that optimizes manually (one per training batch), for MaxSteps and GlobalStep.</summary>
    public void OnManualOptimizationStep() => _trainer.GlobalStep++;

    /// <summary>Called at the end of each batch, still inside its dispose scope (so logged values can be read).</summary>
    public void OnBatchEnd(long batchIdx)
    {
        BatchesRun++;
        _progress?.Update(BatchesRun, _metrics);
    }
}
