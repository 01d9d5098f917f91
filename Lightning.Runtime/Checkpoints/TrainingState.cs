using System.Collections.Generic;
using TorchSharp;

namespace Lightning.Checkpoints;

/// <summary>
/// What a checkpoint holds besides the weights so a fit can resume exactly: the loop position, the optimizer, the
/// scheduler's step history, the callbacks' states and the logged metrics (JSON), as written by the trainer; and the
/// callbacks' tensors (<see cref="ICheckpointTensors"/>): <paramref name="CallbackTensors"/> under their full names
/// (<c>callbacks.&lt;StateKey&gt;.&lt;name&gt;</c>), and <paramref name="ModelWeights"/> when a callback replaced the weights the
/// file holds as <c>model.*</c> (e.g. with averaged ones; null: the module's own).
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
    string CallbackMetricsJson,
    IReadOnlyList<(string Name, torch.Tensor Tensor)>? CallbackTensors = null,
    IReadOnlyDictionary<string, torch.Tensor>? ModelWeights = null,
    string? EpochMetricsJson = null);
