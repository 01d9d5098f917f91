using TorchSharp;

namespace Lightning.Checkpoints;

/// <summary>
/// What a checkpoint holds besides the weights so a fit can resume exactly: the loop position, the optimizer, the
/// scheduler's step history, the callbacks' states and the logged metrics (JSON), as written by the trainer.
/// </summary>
public sealed record TrainingState(
    int Epoch,
    long GlobalStep,
    long BatchInEpoch,
    bool EpochFinished,
    bool EpochEndDone,
    long Iteration,
    torch.optim.Optimizer Optimizer,
    string SchedulerJson,
    string CallbacksJson,
    string CallbackMetricsJson);
