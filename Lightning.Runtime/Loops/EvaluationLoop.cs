using System;
using System.Collections.Generic;
using static TorchSharp.torch;
using Lightning.Callbacks;
using Lightning.Data;
using Lightning.Reporting;

namespace Lightning;

/// <summary>The trainer's side of a validation, test or prediction run; the generated loops call it around each batch.</summary>
public sealed class EvaluationLoop
{
    private readonly MetricStore _metrics;
    private readonly ProgressBar? _progress;
    private readonly CallbackList? _callbacks;
    private readonly long _batchLimit;

    internal EvaluationLoop(Stage stage, MetricStore metrics, BatchTransfer transfer, long batchLimit, ProgressBar? progress, CallbackList? callbacks)
    {
        Stage = stage;
        _metrics = metrics;
        Transfer = transfer;
        _batchLimit = batchLimit;
        _progress = progress;
        // Batch hooks are Lightning's on_validation_batch_*; other stages have none here.
        _callbacks = stage == Stage.Validate ? callbacks : null;
    }

    /// <summary>Validation, test or predict.</summary>
    public Stage Stage { get; }

    /// <summary>Moves batches to the device (and precision) of the run.</summary>
    public BatchTransfer Transfer { get; }

    /// <summary>The device batches are moved to.</summary>
    public Device Device => Transfer.Device;

    /// <summary>Batches run so far.</summary>
    public long BatchesRun { get; private set; }

    /// <summary>True when batch <paramref name="batchIdx"/> is within the batch limit.</summary>
    public bool ShouldRunBatch(long batchIdx) => batchIdx < _batchLimit;

    /// <summary>Called after the batch is on the device, before the step.</summary>
    public void OnBatchStart(long batchIdx, long batchSize)
    {
        _metrics.BeginStep(batchSize);
        _callbacks?.ValidationBatchStart(batchIdx);
    }

    /// <summary>Called at the end of each batch, inside its dispose scope.</summary>
    public void OnBatchEnd(long batchIdx)
    {
        BatchesRun++;
        _callbacks?.ValidationBatchEnd(batchIdx);
        _progress?.Update(BatchesRun, _metrics);
    }

    /// <summary>
    /// Runs <paramref name="run"/> (a module's generated validation, test or predict loop) over <paramref name="batches"/>
    /// in eval mode and returns the logged means; the module's train mode is restored afterwards.
    /// </summary>
    internal static List<KeyValuePair<string, double>> Run<TBatch>(ILightningModule<TBatch> model, Action<IEnumerable<TBatch>, EvaluationLoop> run,
        IEnumerable<TBatch> batches, Stage stage, BatchLimit limit, string title, ProgressBar? progress, BatchTransfer transfer, CallbackList? callbacks)
    {
        bool wasTraining = model.Module.training;
        long count = limit.Resolve(Trainer.CountOf(batches));
        progress?.Start(title, count == long.MaxValue ? null : count);
        model.Metrics.BeginRun(stage, training: false);
        run(batches, new EvaluationLoop(stage, model.Metrics, transfer, count, progress, callbacks));
        if (wasTraining) model.Module.train();
        progress?.Clear();
        return model.Metrics.RunMeans();
    }
}
