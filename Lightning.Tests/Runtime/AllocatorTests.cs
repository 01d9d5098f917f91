using Xunit;

namespace Lightning.Tests.Runtime;

public sealed class AllocatorTests
{
    [Fact]
    public void NonePolicyChangesNothing()
    {
        var before = Allocator.Applied;
        Assert.False(Allocator.Apply(AllocatorPolicy.None));
        Assert.Equal(before, Allocator.Applied);
        Assert.False(Allocator.Apply(AllocatorPolicy.None));
        Assert.Equal(before, Allocator.Applied);
    }

    [Fact]
    public void RecommendedIsTheDefault()
    {
        Assert.Equal(AllocatorPolicy.Recommended, default(AllocatorPolicy));
        Assert.Equal(AllocatorPolicy.Recommended, new TrainerOptions().AllocatorPolicy);
    }
}
