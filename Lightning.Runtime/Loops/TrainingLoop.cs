using System.Collections.Generic;
using System.Linq;
using TorchSharp;
using TorchSharp.Modules;
using Lightning.Loops;
using Lightning.Profiling;
using static TorchSharp.torch;
using Lightning.Callbacks;
using Lightning.Data;
using Lightning.Reporting;

namespace Lightning;

/// <summary>
/// The trainer's side of one training epoch. The generated <c>RunTrainingEpoch</c> of a module calls these
/// methods directly around each batch; everything here is cheap bookkeeping, except the backward pass and the
/// optimizer step themselves. It advances the fit's <see cref="FitProgress"/> and asks its <see cref="FitLoop"/> what
/// is due after a batch (validation, logging); it never writes to the <see cref="Trainer"/>.
/// </summary>
public sealed class TrainingLoop
{
    private readonly FitLoop _fit;
    private readonly FitProgress _progress;
    private readonly MetricStore _metrics;
    private readonly torch.optim.Optimizer _optimizer;
    private readonly ProgressBar? _bar;
    private readonly IReadOnlyList<Parameter> _parameters;
    private readonly CallbackList _callbacks;
    private readonly SchedulerRunner _scheduler;
    private readonly bool _automatic;
    private readonly int _accumulate;
    private readonly double? _clip;
    private readonly bool _clipByValue;
    private long _batchLimit;
    private long _maxSteps;
    private long _batchIdx;
    private bool _epochSchedulerDone;
    private int _pending;   // batches whose gradients wait for the next optimizer step
    private bool _stepped;  // the current batch ended with an optimizer step
    private readonly bool _forwardOnly;   // training steps without backward, step, hooks or progress (SWA's BatchNorm pass)
    private readonly SimpleProfiler? _profiler;   // TrainerOptions.Profiler: null (no timestamp is taken) unless "simple"

    internal TrainingLoop(FitLoop fit, ILightningModule module, torch.optim.Optimizer optimizer, BatchTransfer transfer, ProgressBar? progress,
        CallbackList callbacks, SchedulerRunner scheduler, TrainerOptions options, bool forwardOnly = false, SimpleProfiler? profiler = null)
    {
        _forwardOnly = forwardOnly;
        _profiler = forwardOnly ? null : profiler;
        _fit = fit;
        _progress = fit.Progress;
        _metrics = module.Metrics;
        _optimizer = optimizer;
        _bar = progress;
        _callbacks = callbacks;
        _scheduler = scheduler;
        _automatic = module.AutomaticOptimization;
        Transfer = _profiler is null ? transfer : transfer.Profiled(_profiler);
        _parameters = module.Module.parameters().ToList();
        _accumulate = options.AccumulateGradBatches;
        _clip = options.GradientClipVal;
        _clipByValue = options.GradientClipAlgorithm == GradientClipAlgorithm.Value;
        _distributed = fit.Distributed;
    }

    private readonly bool _distributed;

    /// <summary>Moves batches to the device (and precision) of the run.</summary>
    public BatchTransfer Transfer { get; }

    /// <summary>The device batches are moved to.</summary>
    public Device Device => Transfer.Device;

    /// <summary>The optimizer from <c>[ConfigureOptimizers]</c> (what a manually optimized module steps itself).</summary>
    public torch.optim.Optimizer Optimizer => _optimizer;

    /// <summary>The index of the first batch of this epoch: 0, or where a fit resumed within the epoch.</summary>
    public long FirstBatchIdx { get; private set; }

    /// <summary>Batches run in the current epoch so far (counting those before a resume).</summary>
    public long BatchesRun => _progress.BatchInEpoch;

    internal void BeginEpoch(long firstBatchIdx, long batchLimit, long maxSteps)
    {
        // A fit resumed after the epoch's last batch already has that epoch's scheduler step (it comes before the batch's callbacks).
        _epochSchedulerDone = batchLimit != long.MaxValue && firstBatchIdx >= batchLimit;
        FirstBatchIdx = firstBatchIdx;
        _batchLimit = batchLimit;
        _maxSteps = maxSteps;
        _pending = 0;
    }

    /// <summary>
    /// True when batch <paramref name="batchIdx"/> should run: within the batch limit, the step limit, no stop was requested,
    /// and no SIGTERM/SIGINT arrived (which stops at the next batch that would begin an optimizer step).
    /// </summary>
    public bool ShouldRunBatch(long batchIdx)
    {
        bool run = _forwardOnly ? batchIdx < _batchLimit :
            batchIdx < _batchLimit && !_fit.StopsNow(agreeAcrossRanks: _distributed, atStepBoundary: _pending == 0)
            && (_maxSteps < 0 || _progress.GlobalStep < _maxSteps);
        if (run && _profiler is not null) _profiler.BeginFetch();   // the loader's MoveNext comes next
        return run;
    }

    /// <summary>Called after the batch is on the device, before the training step.</summary>
    public void OnBatchStart(long batchIdx, long batchSize)
    {
        _profiler?.EndFetch();
        _batchIdx = batchIdx;
        _stepped = false;
        _metrics.BeginStep(batchSize);
        if (!_forwardOnly) _callbacks.TrainBatchStart(batchIdx);
        _profiler?.BeginStep();
    }

    /// <summary>
    /// Backpropagates <paramref name="loss"/> (divided by <see cref="TrainerOptions.AccumulateGradBatches"/>);
    /// returns false (nothing to do) when the step returned null.
    /// </summary>
    public bool Backward(Tensor? loss)
    {
        if (loss is null || _forwardOnly) return false;
        _profiler?.EndStep();
        _callbacks.BeforeBackward(loss);
        long started = Stamp();
        if (_accumulate == 1) loss.backward();
        else
        {
            using var scaled = loss / _accumulate;
            scaled.backward();
        }
        _profiler?.Add(ProfilerAction.Backward, started);
        _callbacks.AfterBackward();
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

    /// <summary>
    /// All the epoch's batches ran: the epoch-interval scheduler steps now unless it did at the last batch (a loader whose
    /// length is not known only shows its last batch when it runs out).
    /// </summary>
    internal void EpochBatchesDone()
    {
        if (_epochSchedulerDone || !_automatic) return;
        _epochSchedulerDone = true;
        _scheduler.AfterEpochBatches(_progress.Epoch);
    }

    /// <summary>
    /// All-reduce (data-parallel), clipping, the optimizer step and zero_grad, with their hooks. Under a profiler,
    /// optimizer_step times the first three and zero_grad the last, each without its hooks; off, no clock is read.
    /// </summary>
    private void Step()
    {
        long started = Stamp();
        // Data-parallel: average the gradients across ranks before clipping and stepping (PyTorch's DDP).
        if (_distributed) _fit.AllReduceGradients(_parameters);
        if (_clip is double clip)
        {
            if (_clipByValue) torch.nn.utils.clip_grad_value_(_parameters, clip);
            else torch.nn.utils.clip_grad_norm_(_parameters, clip);
        }
        long hooks = Stamp();
        _callbacks.BeforeOptimizerStep(_optimizer);
        long stepping = Stamp();
        _optimizer.step();
        _profiler?.AddTicks(ProfilerAction.OptimizerStep, hooks - started + (SimpleProfiler.Now() - stepping));
        _callbacks.BeforeZeroGrad(_optimizer);
        long zeroing = Stamp();
        _optimizer.zero_grad();
        _profiler?.Add(ProfilerAction.OptimizerZeroGrad, zeroing);
        _pending = 0;
        _stepped = true;
        _progress.GlobalStep++;
        _scheduler.AfterOptimizerStep(_batchIdx);
    }

    /// <summary>The profiler's clock now, or 0 without a profiler (no clock read).</summary>
    private long Stamp() => _profiler is null ? 0 : SimpleProfiler.Now();

    /// <summary>Counts a step of a module that optimizes manually (one per training batch), for MaxSteps and GlobalStep.</summary>
    public void OnManualOptimizationStep()
    {
        _stepped = true;
        _progress.GlobalStep++;
    }

    /// <summary>
    /// Called at the end of each batch, still inside its dispose scope (so <paramref name="loss"/> and logged values
    /// can be read): callbacks' <c>OnTrainBatchEnd</c>, the progress bar, step values for the loggers.
    /// </summary>
    public void OnBatchEnd(long batchIdx, Tensor? loss)
    {
        if (_forwardOnly) return;
        _profiler?.EndBatch();
        // The epoch's last batch: epoch-interval schedulers (other than ReduceLROnPlateau) step now, before this batch's
        // callbacks, the validation and the epoch's checkpoint, as Lightning's TrainingEpochLoop.advance.
        if (batchIdx + 1 == _batchLimit) EpochBatchesDone();
        _progress.BatchInEpoch++;
        _progress.Iteration++;
        _callbacks.TrainBatchEnd(loss, batchIdx);
        if (_bar is not null)
        {
            long drawing = Stamp();
            _bar.Update(BatchesRun, _metrics);
            _profiler?.Add(ProfilerAction.ProgressBarUpdate, drawing);
        }
        if (_stepped) _fit.AfterOptimizerStepInBatch(_metrics);
    }

    /// <summary>Called after each batch's dispose scope: validation within the epoch when it is due (<see cref="TrainerOptions.ValCheckInterval"/>).</summary>
    public void AfterBatch(long batchIdx)
    {
        if (!_forwardOnly) _fit.AfterTrainingBatch(batchIdx);
    }
}
