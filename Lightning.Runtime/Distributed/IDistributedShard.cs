namespace Lightning.Distributed;

/// <summary>A loader that can give each rank a disjoint shard of every epoch (PyTorch's DistributedSampler).</summary>
public interface IDistributedShard
{
    /// <summary>From now on, this loader yields only rank <paramref name="rank"/>'s shard of <paramref name="worldSize"/>.</summary>
    void UseShard(int rank, int worldSize);
}
