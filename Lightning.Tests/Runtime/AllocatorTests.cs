using Xunit;

namespace Lightning.Tests.Runtime;

public sealed class AllocatorTests
{
    [Fact]
    public void NoneChangesNothingAndTheFirstCallDecidesForTheProcess()
    {
        // Other tests may already have started a trainer in this process; either way None changes no setting.
        Assert.False(Allocator.Apply(AllocatorPolicy.None));
        var decided = Allocator.Applied;
        Assert.NotNull(decided);
        // Once decided, later calls (another trainer, another policy) change nothing.
        Assert.False(Allocator.Apply(AllocatorPolicy.TopPad));
        Assert.False(Allocator.Apply(AllocatorPolicy.KeepHeap));
        Assert.Equal(decided, Allocator.Applied);
    }

    [Fact]
    public void RecommendedIsTheDefault()
    {
        Assert.Equal(AllocatorPolicy.Recommended, default(AllocatorPolicy));
        Assert.Equal(AllocatorPolicy.Recommended, new TrainerOptions().AllocatorPolicy);
    }
}
