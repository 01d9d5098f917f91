using System;
using System.Collections;
using System.Collections.Generic;
using TorchSharp;
using static TorchSharp.torch;

namespace Lightning.Data;

/// <summary>
/// Batches over preloaded in-memory tensors: <c>x</c> and <c>y</c> hold every sample, first dimension = samples.
/// Each enumeration is one epoch. Shuffled loaders draw a fresh permutation per epoch from their own generator
/// (seeded with <c>seed</c>, so a seed gives the same sequence of epochs in every run), or from the global
/// generator when no seed is given.
/// </summary>
/// <remarks>
/// Each batch is a pair of fresh tensors (copies, made by <c>index_select</c> or a cloned slice) created lazily
/// in <c>MoveNext</c>: they belong to the consumer, whose current dispose scope takes them, and writing to them
/// never changes the source tensors. The loader never disposes <c>x</c> or <c>y</c>; whoever preloaded them
/// owns them and must keep them alive while the loader is used.
/// </remarks>
public sealed class TensorDataLoader : IReadOnlyCollection<(Tensor X, Tensor Y)>, IEpochAware, Distributed.IDistributedShard
{
    private int _rank;
    private int _worldSize = 1;
    private readonly Tensor _x;
    private readonly Tensor _y;
    private readonly Generator? _generator;
    private readonly long? _seed;

    /// <summary>Creates a loader over <paramref name="x"/> (inputs) and <paramref name="y"/> (targets).</summary>
    /// <param name="x">The inputs, one row per sample.</param>
    /// <param name="y">The targets, one row per sample (same first dimension as <paramref name="x"/>).</param>
    /// <param name="batchSize">Samples per batch; the last batch may be smaller unless <paramref name="dropLast"/>.</param>
    /// <param name="shuffle">Whether each epoch visits the samples in a new random order.</param>
    /// <param name="dropLast">Whether to skip the last batch when it is smaller than <paramref name="batchSize"/>.</param>
    /// <param name="seed">Seeds this loader's generator for shuffling; null uses torch's global generator.</param>
    /// <exception cref="ArgumentException">A tensor is a scalar, the first dimensions differ, or <paramref name="batchSize"/> is not positive.</exception>
    public TensorDataLoader(Tensor x, Tensor y, int batchSize, bool shuffle = false, bool dropLast = false, long? seed = null)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(y);
        if (x.Dimensions == 0)
        {
            throw new ArgumentException("x must have at least one dimension (the samples).", nameof(x));
        }
        if (y.Dimensions == 0)
        {
            throw new ArgumentException("y must have at least one dimension (the samples).", nameof(y));
        }
        if (x.shape[0] != y.shape[0])
        {
            throw new ArgumentException($"x and y must hold the same number of samples (first dimension): x has {x.shape[0]}, y has {y.shape[0]}.", nameof(y));
        }
        if (batchSize <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "batchSize must be positive.");
        }

        _x = x;
        _y = y;
        BatchSize = batchSize;
        Shuffle = shuffle;
        DropLast = dropLast;
        SampleCount = x.shape[0];
        if (shuffle && seed is long s)
        {
            _generator = new Generator().manual_seed(s);
            _seed = s;
        }
    }

    /// <summary>
    /// Makes the next enumeration use epoch <paramref name="epoch"/>'s order: with a seed, that order depends only
    /// on the seed and the epoch, so a resumed fit sees the same batches as an uninterrupted one. The trainer calls
    /// it before each training epoch; without a seed it does nothing.
    /// </summary>
    public void SetEpoch(int epoch)
    {
        if (_generator is not null && _seed is long seed) _generator.manual_seed(unchecked(seed * 1_000_003 + epoch));
    }

    /// <summary>The number of samples (the first dimension of the tensors).</summary>
    public long SampleCount { get; }

    /// <summary>Samples per batch.</summary>
    public int BatchSize { get; }

    /// <summary>Whether each epoch visits the samples in a new random order.</summary>
    public bool Shuffle { get; }

    /// <summary>Whether a last, smaller batch is skipped.</summary>
    public bool DropLast { get; }

    /// <summary>The number of batches per epoch.</summary>
    public int Count => checked((int)(DropLast ? ShardSize / BatchSize : (ShardSize + BatchSize - 1) / BatchSize));

    /// <summary>Samples this loader yields per epoch: all of them, or one rank's shard (padded, as PyTorch's DistributedSampler).</summary>
    public long ShardSize => _worldSize == 1 ? SampleCount : (SampleCount + _worldSize - 1) / _worldSize;

    /// <summary>
    /// Yields only rank <paramref name="rank"/>'s shard of each epoch, as PyTorch's DistributedSampler: the epoch's order
    /// (the same seeded permutation on every rank) padded with its first samples to a multiple of
    /// <paramref name="worldSize"/>, and every <paramref name="worldSize"/>-th sample from position <paramref name="rank"/>.
    /// The trainer calls it under data-parallel training.
    /// </summary>
    public void UseShard(int rank, int worldSize)
    {
        if (worldSize < 1 || rank < 0 || rank >= worldSize)
            throw new LightningException($"TensorDataLoader.UseShard: rank {rank} of {worldSize} is not a valid shard.");
        if (worldSize > 1 && Shuffle && _seed is null)
            throw new LightningException("TensorDataLoader: a shuffled loader under data-parallel training needs a seed, so that every rank draws the same order and the shards are disjoint.");
        _rank = rank;
        _worldSize = worldSize;
    }

    /// <summary>
    /// Batches prepared ahead on a background thread while the current one trains (0: none, the default). The batches
    /// and their order are the same; each batch handed out joins the consumer's dispose scope, and batches prepared but
    /// never taken (an epoch cut short) are freed.
    /// </summary>
    public int Prefetch
    {
        get => _prefetch;
        init => _prefetch = value >= 0 ? value : throw new LightningException($"TensorDataLoader.Prefetch is {value}; expected 0 (off) or more.");
    }

    private readonly int _prefetch;

    /// <summary>Starts an epoch. Nothing is allocated until the first <c>MoveNext</c>.</summary>
    public IEnumerator<(Tensor X, Tensor Y)> GetEnumerator()
    {
        var batches = _worldSize > 1 ? IndexedBatches(ShardOrder) : Shuffle ? IndexedBatches(NewPermutation) : SequentialBatches();
        return Prefetch > 0 ? Prefetched(batches, Prefetch) : batches;
    }

    /// <summary>
    /// Runs <paramref name="source"/> on a background thread, at most <paramref name="depth"/> batches ahead. TorchSharp's
    /// dispose scopes are per thread: the producer has none, so its tensors belong to no scope until the consumer's
    /// current scope takes each batch it receives.
    /// </summary>
    private static IEnumerator<(Tensor X, Tensor Y)> Prefetched(IEnumerator<(Tensor X, Tensor Y)> source, int depth)
    {
        using var queue = new System.Collections.Concurrent.BlockingCollection<(Tensor X, Tensor Y)>(depth);
        using var stop = new System.Threading.CancellationTokenSource();
        var producer = System.Threading.Tasks.Task.Run(() =>
        {
            try
            {
                using (source)
                {
                    while (!stop.IsCancellationRequested && source.MoveNext())
                    {
                        var batch = source.Current;
                        try { queue.Add(batch, stop.Token); }
                        catch (OperationCanceledException) { batch.X.Dispose(); batch.Y.Dispose(); break; }
                    }
                }
            }
            finally { queue.CompleteAdding(); }
        });
        try
        {
            foreach (var batch in queue.GetConsumingEnumerable())
            {
                torch.CurrentDisposeScope?.Attach(batch.X, batch.Y);
                yield return batch;
            }
            producer.GetAwaiter().GetResult();   // a failure while preparing batches surfaces here
        }
        finally
        {
            stop.Cancel();
            try { producer.Wait(); } catch (AggregateException) when (stop.IsCancellationRequested) { }
            while (queue.TryTake(out var left)) { left.X.Dispose(); left.Y.Dispose(); }
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>The samples in order, each batch a copy of a contiguous slice.</summary>
    private IEnumerator<(Tensor X, Tensor Y)> SequentialBatches()
    {
        int count = Count;
        for (int b = 0; b < count; b++)
        {
            long start = (long)b * BatchSize;
            long length = Math.Min(BatchSize, SampleCount - start);
            yield return (Slice(_x, start, length), Slice(_y, start, length));
        }
    }

    /// <summary>The samples in the order <paramref name="newOrder"/> makes (a fresh permutation, or this rank's shard), each batch gathered with <c>index_select</c>.</summary>
    private IEnumerator<(Tensor X, Tensor Y)> IndexedBatches(Func<Tensor> newOrder)
    {
        int count = Count;
        // Made in the first MoveNext, typically inside the consumer's per-step dispose scope: detach it so the
        // scope does not free it while the epoch still needs it; the finally block frees it instead.
        Tensor order = newOrder().DetachFromDisposeScope();
        try
        {
            long total = order.shape[0];
            for (int b = 0; b < count; b++)
            {
                long start = (long)b * BatchSize;
                long length = Math.Min(BatchSize, total - start);
                Tensor xb, yb;
                using (var indices = order.narrow(0, start, length))
                {
                    xb = _x.index_select(0, indices);
                    yb = _y.index_select(0, indices);
                }
                yield return (xb, yb);
            }
        }
        finally
        {
            order.Dispose();
        }
    }

    /// <summary>This rank's indices of the epoch: the (shuffled or natural) order padded to a multiple of the world size, every world-size-th from the rank.</summary>
    private Tensor ShardOrder()
    {
        using var scope = torch.NewDisposeScope();
        var order = Shuffle ? NewPermutation() : torch.arange(SampleCount, device: _x.device);
        long total = ShardSize * _worldSize;
        if (total > SampleCount) order = torch.cat(new[] { order, order.narrow(0, 0, total - SampleCount) }, 0);
        var shard = order.index_select(0, torch.arange(_rank, total, _worldSize, device: order.device));
        return shard.MoveToOuterDisposeScope();
    }

    /// <summary>A permutation of the sample indices on the device of <c>x</c>.</summary>
    private Tensor NewPermutation()
    {
        var permutation = torch.randperm(SampleCount, generator: _generator);
        if (_x.device_type == DeviceType.CPU)
        {
            return permutation;
        }
        using (permutation)
        {
            return permutation.to(_x.device);
        }
    }

    /// <summary>A fresh copy of rows <c>[start, start + length)</c> of <paramref name="source"/>.</summary>
    private static Tensor Slice(Tensor source, long start, long length)
    {
        using var view = source.narrow(0, start, length);
        return view.clone();
    }
}
