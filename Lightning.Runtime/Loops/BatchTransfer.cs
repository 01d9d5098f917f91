using TorchSharp;
using static TorchSharp.torch;

namespace Lightning;

/// <summary>
/// Moves a batch's tensors to the run's device, casting floating-point tensors to the run's precision
/// (<see cref="TrainerOptions.Precision"/>); the generated <c>LightningTransferBatch</c> calls <see cref="Move"/> per tensor.
/// </summary>
public sealed class BatchTransfer
{
    private readonly ScalarType? _floatType;
    private readonly Profiling.SimpleProfiler? _profiler;   // the training loop's transfer under a profiler: the first Move ends the fetch

    internal BatchTransfer(Device device, ScalarType floatType)
        : this(device, floatType == ScalarType.Float32 ? null : floatType, null)
    {
    }

    private BatchTransfer(Device device, ScalarType? floatType, Profiling.SimpleProfiler? profiler)
    {
        Device = device;
        _floatType = floatType;
        _profiler = profiler;
    }

    /// <summary>The same transfer, marking the end of each training batch's fetch for <paramref name="profiler"/>.</summary>
    internal BatchTransfer Profiled(Profiling.SimpleProfiler profiler) => new(Device, _floatType, profiler);

    /// <summary>The device batches go to.</summary>
    public Device Device { get; }

    /// <summary>The tensor on <see cref="Device"/>; a floating-point tensor also in the run's precision.</summary>
    public Tensor Move(Tensor tensor)
    {
        _profiler?.MarkTransfer();
        return _floatType is ScalarType type && tensor.is_floating_point() && tensor.dtype != type ? tensor.to(type, Device) : tensor.to(Device);
    }
}
