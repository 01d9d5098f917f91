using System.Collections.Generic;
using Lightning.Data;
using static TorchSharp.torch;

namespace Lightning.Tests.Training;

/// <summary>Tiny synthetic data sets, generated from a seed.</summary>
internal static class SyntheticData
{
    /// <summary>Three well-separated Gaussian blobs in 4 dimensions: (x [n,4], y [n]).</summary>
    public static (Tensor X, Tensor Y) Blobs(int n, long seed)
    {
        using var g = new Generator((ulong)seed);
        var y = randint(0, 3, new long[] { n }, generator: g);
        var centers = tensor(new float[] { 2, 0, 0, 0, 0, 2, 0, 0, 0, 0, 2, 2 }).reshape(3, 4);
        var x = centers.index_select(0, y) + randn(new long[] { n, 4 }, generator: g) * 0.7f;
        return (x.DetachFromDisposeScope(), y.DetachFromDisposeScope());
    }

    public static TensorDataLoader Loader(int n, long seed, int batchSize, bool shuffle)
    {
        var (x, y) = Blobs(n, seed);
        return new TensorDataLoader(x, y, batchSize, shuffle: shuffle, seed: seed);
    }

    /// <summary>y = x·w + b + noise with w = (1, -2, 0.5), b = 0.3, as record batches.</summary>
    public static List<RegressionBatch> Regression(int batches, int batchSize, long seed)
    {
        using var g = new Generator((ulong)seed);
        var w = tensor(new float[] { 1, -2, 0.5f }).reshape(3, 1);
        var list = new List<RegressionBatch>();
        for (int i = 0; i < batches; i++)
        {
            var x = randn(new long[] { batchSize, 3 }, generator: g);
            var y = x.matmul(w) + 0.3f + randn(new long[] { batchSize, 1 }, generator: g) * 0.01f;
            list.Add(new RegressionBatch(x.DetachFromDisposeScope(), y.DetachFromDisposeScope()));
        }
        return list;
    }
}
