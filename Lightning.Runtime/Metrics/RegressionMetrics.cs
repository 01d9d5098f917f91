using System;
using System.Linq;
using static TorchSharp.torch;

namespace Lightning.Metrics;

/// <summary>The base of the regression metrics: a sum of per-element errors and a count, on the device.</summary>
public abstract class ErrorMean : Metric
{
    private Tensor? _sum;
    private Tensor? _count;

    /// <summary>The per-element error of a batch.</summary>
    protected abstract Tensor Error(Tensor preds, Tensor target);

    /// <inheritdoc/>
    public override void Update(Tensor preds, Tensor target)
    {
        ArgumentNullException.ThrowIfNull(preds);
        ArgumentNullException.ThrowIfNull(target);
        if (!preds.shape.SequenceEqual(target.shape))
            throw new LightningException($"{Name}: predictions and targets must have the same shape, got preds [{string.Join(", ", preds.shape)}], target [{string.Join(", ", target.shape)}].");
        using var scope = NewDisposeScope();
        var error = Error(preds.to_type(ScalarType.Float64), target.to_type(ScalarType.Float64));
        _sum = _sum is null ? State(Array.Empty<long>(), ScalarType.Float64, preds.device) : OnDevice(_sum, preds.device);
        _count = _count is null ? State(Array.Empty<long>(), ScalarType.Int64, preds.device) : OnDevice(_count, preds.device);
        _sum.add_(error.sum());
        _count.add_(preds.numel());
    }

    /// <inheritdoc/>
    public override Tensor Compute()
    {
        if (_sum is null) throw new LightningException($"{Name}.Compute: no batch was added (call Update first).");
        return _sum / _count!.to_type(ScalarType.Float64);
    }

    /// <inheritdoc/>
    public override void Reset()
    {
        _sum?.zero_();
        _count?.zero_();
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        _sum?.Dispose();
        _count?.Dispose();
        _sum = _count = null;
    }
}

/// <summary>The mean of the squared differences.</summary>
public sealed class MeanSquaredError : ErrorMean
{
    /// <inheritdoc/>
    protected override Tensor Error(Tensor preds, Tensor target) => (preds - target).square();
}

/// <summary>The mean of the absolute differences.</summary>
public sealed class MeanAbsoluteError : ErrorMean
{
    /// <inheritdoc/>
    protected override Tensor Error(Tensor preds, Tensor target) => (preds - target).abs();
}
