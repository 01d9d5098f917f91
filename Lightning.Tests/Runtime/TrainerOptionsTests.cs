using Xunit;

namespace Lightning.Tests.Runtime;

public sealed class TrainerOptionsTests
{
    public static TheoryData<TrainerOptions, string> Invalid => new()
    {
        { new TrainerOptions { MaxEpochs = -2 }, "MaxEpochs" },
        { new TrainerOptions { MaxSteps = -2 }, "MaxSteps" },
        { new TrainerOptions { FastDevRun = -1 }, "FastDevRun" },
        { new TrainerOptions { NumSanityValSteps = -2 }, "NumSanityValSteps" },
        { new TrainerOptions { Threads = 0 }, "Threads" },
        { new TrainerOptions { AllocatorPolicy = (AllocatorPolicy)99 }, "AllocatorPolicy" },
        { new TrainerOptions { Strategy = (Strategy)9 }, "Strategy" },
        { new TrainerOptions { GradientClipAlgorithm = (GradientClipAlgorithm)9 }, "GradientClipAlgorithm" },
        { new TrainerOptions { Precision = (TrainingPrecision)99 }, "Precision" },
        { new TrainerOptions { Precision = TrainingPrecision.Float16Mixed }, "Precision" },
    };

    [Theory]
    [MemberData(nameof(Invalid))]
    public void ValidateNamesTheOption(TrainerOptions options, string option)
    {
        var e = Assert.Throws<OptionException>(options.Validate);
        Assert.Contains("TrainerOptions." + option, e.Message);
    }

    [Theory]
    [MemberData(nameof(Invalid))]
    public void TrainerConstructorValidates(TrainerOptions options, string option)
    {
        var e = Assert.Throws<OptionException>(() => new Trainer(options));
        Assert.Contains("TrainerOptions." + option, e.Message);
    }

    [Fact]
    public void NegativeMaxStepsMessageShowsTheValue()
    {
        var e = Assert.Throws<OptionException>(() => new TrainerOptions { MaxSteps = -5 }.Validate());
        Assert.Contains("-5", e.Message);
    }

    [Fact]
    public void BoundaryValuesAreValid()
    {
        new TrainerOptions().Validate();
        new TrainerOptions { MaxEpochs = -1, MaxSteps = -1, NumSanityValSteps = -1, Threads = 1, AllocatorPolicy = AllocatorPolicy.None }.Validate();
        new TrainerOptions { MaxEpochs = 0, MaxSteps = 0, FastDevRun = 0, NumSanityValSteps = 0 }.Validate();
        var trainer = new Trainer(new TrainerOptions { MaxEpochs = 3, FastDevRun = 2 });
        Assert.Equal(3, trainer.Options.MaxEpochs);
    }

    [Fact]
    public void DefaultsFollowLightning()
    {
        var o = new TrainerOptions();
        Assert.Null(o.MaxEpochs);
        Assert.Equal(-1, o.MaxSteps);
        Assert.Equal(2, o.NumSanityValSteps);
        Assert.Equal("auto", o.Device);
        Assert.Equal(TrainingPrecision.Float32, o.Precision);          // "32-true"
        Assert.Equal(Strategy.Auto, o.Strategy);                        // "auto"
        Assert.Equal(GradientClipAlgorithm.Norm, o.GradientClipAlgorithm);   // "norm"
        Assert.Equal(BatchLimit.All, o.LimitTrainBatches);
        Assert.Equal(1000, o.ResolvedMaxEpochs);
        Assert.Equal(int.MaxValue, (o with { MaxSteps = 10 }).ResolvedMaxEpochs);
        Assert.Equal(4, (o with { MaxEpochs = 4, MaxSteps = 10 }).ResolvedMaxEpochs);
        Assert.Equal(1, (o with { MaxEpochs = 4, FastDevRun = 3 }).ResolvedMaxEpochs);
    }

    [Fact]
    public void TrainerWithoutOptionsUsesTheDefaults()
    {
        var trainer = new Trainer();
        Assert.Equal(new TrainerOptions(), trainer.Options);
    }
}
