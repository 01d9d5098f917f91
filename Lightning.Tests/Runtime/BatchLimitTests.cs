using System;
using Xunit;

namespace Lightning.Tests.Runtime;

public sealed class BatchLimitTests
{
    [Fact]
    public void IntConvertsToACount()
    {
        BatchLimit limit = 10;
        Assert.Equal(10L, limit.Count);
        Assert.Null(limit.Fraction);
        Assert.Equal("10", limit.ToString());
    }

    [Fact]
    public void LongConvertsToACount()
    {
        BatchLimit limit = 5_000_000_000L;
        Assert.Equal(5_000_000_000L, limit.Count);
        Assert.Null(limit.Fraction);
    }

    [Fact]
    public void DoubleConvertsToAFraction()
    {
        BatchLimit limit = 0.25;
        Assert.Null(limit.Count);
        Assert.Equal(0.25, limit.Fraction);
        Assert.Equal("0.25", limit.ToString());
    }

    [Fact]
    public void OneAsIntAndOneAsDoubleDiffer()
    {
        BatchLimit one = 1;
        BatchLimit all = 1.0;
        Assert.NotEqual(one, all);
        Assert.Equal(BatchLimit.All, all);
        Assert.Equal(1, one.Resolve(100));
        Assert.Equal(100, all.Resolve(100));
    }

    [Theory]
    [InlineData(10, 4L, 4L)]
    [InlineData(3, 4L, 3L)]
    [InlineData(0, 4L, 0L)]
    [InlineData(7, 0L, 0L)]
    public void CountResolvesAgainstAKnownLength(int count, long available, long expected)
    {
        BatchLimit limit = count;
        Assert.Equal(expected, limit.Resolve(available));
    }

    [Fact]
    public void CountResolvesWithoutALength()
    {
        BatchLimit limit = 12;
        Assert.Equal(12, limit.Resolve(null));
    }

    [Theory]
    [InlineData(0.25, 10L, 2L)]     // 2.5 rounds down
    [InlineData(0.5, 10L, 5L)]
    [InlineData(0.99, 10L, 9L)]
    [InlineData(0.01, 10L, 1L)]     // a positive share runs at least one batch
    [InlineData(1e-9, 3L, 1L)]
    [InlineData(0.0, 10L, 0L)]
    [InlineData(0.5, 0L, 0L)]
    [InlineData(1.0, 10L, 10L)]
    [InlineData(1.0, 0L, 0L)]
    public void FractionResolvesAgainstAKnownLength(double fraction, long available, long expected)
    {
        BatchLimit limit = fraction;
        Assert.Equal(expected, limit.Resolve(available));
    }

    [Fact]
    public void AllWithoutALengthIsUnbounded()
    {
        Assert.Equal(long.MaxValue, BatchLimit.All.Resolve(null));
        Assert.Equal(long.MaxValue, default(BatchLimit).Resolve(null));
        Assert.Equal(8, default(BatchLimit).Resolve(8));
    }

    [Fact]
    public void PartialFractionWithoutALengthIsAnError()
    {
        BatchLimit limit = 0.5;
        var e = Assert.Throws<LightningException>(() => limit.Resolve(null));
        Assert.Contains("0.5", e.Message);
        Assert.Contains("IReadOnlyCollection", e.Message);
    }

    [Fact]
    public void NegativeCountsThrow()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => { BatchLimit b = -1; return b; });
        Assert.Throws<ArgumentOutOfRangeException>(() => { BatchLimit b = -1L; return b; });
        Assert.Throws<ArgumentOutOfRangeException>(() => BatchLimit.Batches(-5));
    }

    [Theory]
    [InlineData(-0.1)]
    [InlineData(1.5)]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    [InlineData(double.NegativeInfinity)]
    public void FractionsOutsideZeroToOneThrow(double fraction)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => { BatchLimit b = fraction; return b; });
        Assert.Throws<ArgumentOutOfRangeException>(() => BatchLimit.Share(fraction));
    }
}
