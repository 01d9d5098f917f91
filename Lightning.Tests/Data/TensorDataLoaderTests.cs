using System;
using System.Collections.Generic;
using System.Linq;
using Lightning.Data;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Lightning.Tests.Data;

[Collection(TensorCountCollection.Name)]   // counts every live tensor of the process: nothing else may run meanwhile
public sealed class TensorDataLoaderTests
{
    /// <summary>Sample i has inputs [2i, 2i+1] and target 10i, so each batch shows which samples it holds.</summary>
    private static (Tensor X, Tensor Y) Samples(long n) =>
        (torch.arange(2 * n, dtype: ScalarType.Float32).reshape(n, 2), torch.arange(n, dtype: ScalarType.Int64) * 10);

    /// <summary>The sample indices of each batch of one epoch, checking that inputs and targets stay paired.</summary>
    private static List<long[]> Epoch(TensorDataLoader loader)
    {
        var batches = new List<long[]>();
        foreach (var (x, y) in loader)
        {
            using (x)
            using (y)
            {
                long[] indices = y.data<long>().ToArray().Select(t => t / 10).ToArray();
                float[] expectedX = indices.SelectMany(i => new[] { 2f * i, 2f * i + 1 }).ToArray();
                Assert.Equal(expectedX, x.data<float>().ToArray());
                batches.Add(indices);
            }
        }
        return batches;
    }

    [Theory]
    [InlineData(10, 3, false, 4, 1)]
    [InlineData(10, 3, true, 3, 3)]
    [InlineData(9, 3, false, 3, 3)]
    [InlineData(9, 3, true, 3, 3)]
    [InlineData(2, 5, false, 1, 2)]
    [InlineData(2, 5, true, 0, 0)]
    public void CountRespectsDropLast(int n, int batchSize, bool dropLast, int expectedCount, int expectedLastSize)
    {
        var (x, y) = Samples(n);
        using (x)
        using (y)
        {
            var loader = new TensorDataLoader(x, y, batchSize, dropLast: dropLast);
            Assert.Equal(n, loader.SampleCount);
            Assert.Equal(expectedCount, loader.Count);

            var batches = Epoch(loader);
            Assert.Equal(expectedCount, batches.Count);
            if (expectedCount > 0)
            {
                Assert.Equal(expectedLastSize, batches[^1].Length);
                Assert.All(batches.SkipLast(1), b => Assert.Equal(batchSize, b.Length));
            }
        }
    }

    [Fact]
    public void UnshuffledBatchesAreCopiesOfConsecutiveRows()
    {
        var (x, y) = Samples(7);
        using (x)
        using (y)
        {
            var loader = new TensorDataLoader(x, y, 3);
            Assert.Equal(new[] { new long[] { 0, 1, 2 }, [3, 4, 5], [6] }, Epoch(loader));

            // A batch is a copy: writing to it leaves the source alone.
            foreach (var (bx, by) in loader)
            {
                bx.fill_(-1);
                by.fill_(-1);
                bx.Dispose();
                by.Dispose();
            }
            Assert.Equal(0f, x.min().item<float>());
            Assert.Equal(0L, y.min().item<long>());
        }
    }

    [Fact]
    public void ShuffledEpochVisitsEverySampleOnce()
    {
        var (x, y) = Samples(50);
        using (x)
        using (y)
        {
            var loader = new TensorDataLoader(x, y, 8, shuffle: true, seed: 1);
            for (int epoch = 0; epoch < 3; epoch++)
            {
                long[] order = Epoch(loader).SelectMany(b => b).ToArray();
                Assert.Equal(Enumerable.Range(0, 50).Select(i => (long)i), order.Order());
            }
        }
    }

    [Fact]
    public void ShuffledWithoutSeedUsesGlobalGeneratorAndVisitsEverySampleOnce()
    {
        var (x, y) = Samples(20);
        using (x)
        using (y)
        {
            var loader = new TensorDataLoader(x, y, 6, shuffle: true, dropLast: true);
            long[] order = Epoch(loader).SelectMany(b => b).ToArray();
            Assert.Equal(18, order.Length);
            Assert.Equal(18, order.Distinct().Count());
        }
    }

    [Fact]
    public void SameSeedGivesSameOrderAndEpochsDiffer()
    {
        var (x, y) = Samples(40);
        using (x)
        using (y)
        {
            var first = new TensorDataLoader(x, y, 16, shuffle: true, seed: 123);
            var second = new TensorDataLoader(x, y, 16, shuffle: true, seed: 123);
            var other = new TensorDataLoader(x, y, 16, shuffle: true, seed: 124);

            long[] firstEpoch1 = Epoch(first).SelectMany(b => b).ToArray();
            long[] firstEpoch2 = Epoch(first).SelectMany(b => b).ToArray();
            long[] secondEpoch1 = Epoch(second).SelectMany(b => b).ToArray();
            long[] secondEpoch2 = Epoch(second).SelectMany(b => b).ToArray();
            long[] otherEpoch1 = Epoch(other).SelectMany(b => b).ToArray();

            Assert.Equal(firstEpoch1, secondEpoch1);
            Assert.Equal(firstEpoch2, secondEpoch2);
            Assert.NotEqual(firstEpoch1, firstEpoch2);
            Assert.NotEqual(firstEpoch1, otherEpoch1);
        }
    }

    [Fact]
    public void ShuffledBatchesMatchIndexSelectOfTheSeededPermutation()
    {
        var (x, y) = Samples(11);
        using (x)
        using (y)
        using (var generator = new Generator().manual_seed(5))
        using (var permutation = torch.randperm(11, generator: generator))
        {
            var loader = new TensorDataLoader(x, y, 4, shuffle: true, seed: 5);
            int b = 0;
            foreach (var (bx, by) in loader)
            {
                using (bx)
                using (by)
                using (var indices = permutation.narrow(0, 4 * b, bx.shape[0]))
                using (var expectedX = x.index_select(0, indices))
                using (var expectedY = y.index_select(0, indices))
                {
                    Assert.True(bx.Equals(expectedX));
                    Assert.True(by.Equals(expectedY));
                }
                b++;
            }
            Assert.Equal(3, b);
        }
    }

    [Fact]
    public void BatchesBelongToTheConsumersScopeAndThePermutationSurvivesIt()
    {
        var (x, y) = Samples(10);
        using (x)
        using (y)
        {
            var loader = new TensorDataLoader(x, y, 3, shuffle: true, seed: 9);
            var seen = new List<long>();
            var batches = new List<Tensor>();
            using (var enumerator = loader.GetEnumerator())
            {
                // As the trainer does: one dispose scope per step, MoveNext inside it.
                while (true)
                {
                    using var scope = torch.NewDisposeScope();
                    if (!enumerator.MoveNext())
                    {
                        break;
                    }
                    var (bx, by) = enumerator.Current;
                    seen.AddRange(by.data<long>().ToArray());
                    batches.Add(bx);
                    batches.Add(by);
                }
            }
            Assert.Equal(10, seen.Distinct().Count());
            Assert.All(batches, t => Assert.True(t.IsInvalid));
        }
    }

    [Fact]
    public void ArgumentsAreValidated()
    {
        using var x = torch.zeros(5, 2);
        using var y = torch.zeros(4);
        using var y5 = torch.zeros(5);
        using var scalar = torch.tensor(1f);

        var mismatch = Assert.Throws<ArgumentException>(() => new TensorDataLoader(x, y, 2));
        Assert.Equal("y", mismatch.ParamName);
        Assert.Contains("5", mismatch.Message);
        Assert.Contains("4", mismatch.Message);

        var batch = Assert.Throws<ArgumentOutOfRangeException>(() => new TensorDataLoader(x, y5, 0));
        Assert.Equal("batchSize", batch.ParamName);

        var rank = Assert.Throws<ArgumentException>(() => new TensorDataLoader(scalar, y5, 2));
        Assert.Equal("x", rank.ParamName);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void PrefetchGivesTheSameBatchesInTheSameOrder(bool shuffle)
    {
        var x = torch.arange(100).reshape(50, 2).to_type(ScalarType.Float32);
        var y = torch.arange(50L);
        var plain = new Lightning.Data.TensorDataLoader(x, y, 8, shuffle: shuffle, seed: 3);
        var ahead = new Lightning.Data.TensorDataLoader(x, y, 8, shuffle: shuffle, seed: 3) { Prefetch = 3 };
        for (int epoch = 0; epoch < 2; epoch++)
        {
            plain.SetEpoch(epoch);
            ahead.SetEpoch(epoch);
            var expected = plain.Select(b => b.Y.data<long>().ToArray()).ToList();
            var actual = ahead.Select(b => b.Y.data<long>().ToArray()).ToList();
            Assert.Equal(expected, actual);
        }
    }

    [Fact]
    public void PrefetchedBatchesJoinTheStepScopeAndLeftoversAreFreed()
    {
        var x = torch.randn(64, 3);
        var y = torch.arange(64L);
        var loader = new Lightning.Data.TensorDataLoader(x, y, 4, shuffle: true, seed: 1) { Prefetch = 4 };
        long before = Tensor.TotalCount;
        using (var e = loader.GetEnumerator())
        {
            for (int i = 0; i < 3; i++)
            {
                using var scope = torch.NewDisposeScope();
                Assert.True(e.MoveNext());
                Assert.False(e.Current.X.IsInvalid);
            }
        }   // the epoch is cut short: batches prepared ahead are freed here
        Assert.Equal(before, Tensor.TotalCount);
        Assert.Throws<LightningException>(() => new Lightning.Data.TensorDataLoader(x, y, 4) { Prefetch = -1 });
    }
}

/// <summary>Tests that count the process's live tensors (Tensor.TotalCount) run alone, after the parallel ones.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TensorCountCollection
{
    public const string Name = "Tensor count";
}
