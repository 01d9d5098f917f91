using static TorchSharp.torch;

namespace Lightning;

/// <summary>The trainer's side of a validation, test or prediction run; the generated loops call it around each batch.</summary>
public sealed class EvaluationLoop
{
    private readonly MetricStore _metrics;
    private readonly ProgressBar? _progress;
    private readonly long _batchLimit;

    internal EvaluationLoop(Stage stage, MetricStore metrics, Device device, long batchLimit, ProgressBar? progress)
    {
        Stage = stage;
        _metrics = metrics;
        Device = device;
        _batchLimit = batchLimit;
        _progress = progress;
    }

    /// <summary>Validation, test or predict.</summary>
    public Stage Stage { get; }

    /// <summary>The device batches are moved to.</summary>
    public Device Device { get; }

    /// <summary>Batches run so far.</summary>
    public long BatchesRun { get; private set; }

    /// <summary>True when batch <paramref name="batchIdx"/> is within the batch limit.</summary>
    public bool ShouldRunBatch(long batchIdx) => batchIdx < _batchLimit;

    /// <summary>Called after the batch is on the device, before the step.</summary>
    public void OnBatchStart(long batchIdx, long batchSize) => _metrics.BeginStep(batchSize);

    /// <summary>Called at the end of each batch, inside its dispose scope.</summary>
    public void OnBatchEnd(long batchIdx)
    {
        BatchesRun++;
        _progress?.Update(BatchesRun, _metrics);
    }
}
