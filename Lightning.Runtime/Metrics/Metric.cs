using System;
using static TorchSharp.torch;

namespace Lightning.Metrics;

/// <summary>
/// A metric accumulated on the device across batches, as torchmetrics': <see cref="Update"/> per batch (no host sync),
/// <see cref="Compute"/> at the end, <see cref="Reset"/> for the next run. Its state tensors live outside any dispose
/// scope (they survive the trainer's per-step scopes) until the metric is disposed.
/// </summary>
public abstract class Metric : IDisposable
{
    /// <summary>The metric's name in error messages, e.g. "Accuracy".</summary>
    protected string Name => GetType().Name;

    /// <summary>Adds a batch of predictions and targets to the state.</summary>
    public abstract void Update(Tensor preds, Tensor target);

    /// <summary>The metric over everything added since the last reset (a scalar tensor, or a matrix for a confusion matrix).</summary>
    public abstract Tensor Compute();

    /// <summary>The computed value as a number (reads the device).</summary>
    public double ComputeValue()
    {
        using var value = Compute();
        if (value.numel() != 1) throw new LightningException($"{Name}.ComputeValue: the metric is a tensor of shape [{string.Join(", ", value.shape)}], not a number; use Compute().");
        Diagnostics.HostSync.Record();
        return value.to_type(ScalarType.Float64).item<double>();
    }

    /// <summary>Clears the state.</summary>
    public abstract void Reset();

    /// <summary>Frees the state tensors.</summary>
    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Frees the state tensors.</summary>
    protected abstract void Dispose(bool disposing);

    /// <summary>A state tensor of zeros on <paramref name="device"/>, kept alive outside dispose scopes.</summary>
    protected static Tensor State(long[] shape, ScalarType type, Device device) => zeros(shape, type, device).DetachFromDisposeScope();

    /// <summary>Moves <paramref name="state"/> to <paramref name="device"/> when the batches come from another device.</summary>
    protected static Tensor OnDevice(Tensor state, Device device)
    {
        if (state.device_type == device.type && state.device_index == device.index) return state;
        var moved = state.to(device).DetachFromDisposeScope();
        state.Dispose();
        return moved;
    }
}
