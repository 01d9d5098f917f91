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

    internal BatchTransfer(Device device, ScalarType floatType)
    {
        Device = device;
        _floatType = floatType == ScalarType.Float32 ? null : floatType;
    }

    /// <summary>The device batches go to.</summary>
    public Device Device { get; }

    /// <summary>The tensor on <see cref="Device"/>; a floating-point tensor also in the run's precision.</summary>
    public Tensor Move(Tensor tensor) =>
        _floatType is ScalarType type && tensor.is_floating_point() && tensor.dtype != type ? tensor.to(type, Device) : tensor.to(Device);
}
