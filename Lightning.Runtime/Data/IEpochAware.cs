namespace Lightning;

/// <summary>
/// A loader whose order depends on the epoch (PyTorch's <c>sampler.set_epoch</c>): the trainer calls
/// <see cref="SetEpoch"/> before each training epoch, so a resumed fit replays the same order.
/// </summary>
public interface IEpochAware
{
    /// <summary>Prepares the next enumeration for epoch <paramref name="epoch"/> (from 0).</summary>
    void SetEpoch(int epoch);
}
