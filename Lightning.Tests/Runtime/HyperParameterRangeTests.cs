using System;
using FsCheck;
using FsCheck.Fluent;
using Xunit;

namespace Lightning.Tests.Runtime;

/// <summary>The runtime's range checks and their messages, which every generated <c>HParams.Validate</c> uses.</summary>
public sealed class HyperParameterRangeTests
{
    private const string Source = "hyperparameters of Classifier";

    [Fact]
    public void TheMessageNamesTheSourceTheHyperparameterTheValueAndTheRange()
    {
        var e = Assert.Throws<HyperParameterRangeException>(() => HyperParameterRange.Check(Source, "batch_size", 0, min: 1));
        Assert.Equal("hyperparameters of Classifier: 'batch_size' is 0; expected at least 1.", e.Message);
        Assert.Equal("batch_size", e.Name);
        Assert.Equal(Source, e.Origin);
        Assert.Equal("--batch-size: 0 is out of range; expected at least 1.", e.ForOption("--batch-size"));
        Assert.IsAssignableFrom<LightningException>(e);

        e = Assert.Throws<HyperParameterRangeException>(() => HyperParameterRange.Check(Source, "lr_decay", 1.5, min: 0.0, max: 1.0));
        Assert.Equal("hyperparameters of Classifier: 'lr_decay' is 1.5; expected at least 0 and at most 1.", e.Message);

        e = Assert.Throws<HyperParameterRangeException>(() => HyperParameterRange.Check(Source, "momentum", 0.995f, max: 0.99f));
        Assert.Equal("hyperparameters of Classifier: 'momentum' is 0.995; expected at most 0.99.", e.Message);

        e = Assert.Throws<HyperParameterRangeException>(() => HyperParameterRange.Check(Source, "steps", -1L, min: 0L));
        Assert.Equal("hyperparameters of Classifier: 'steps' is -1; expected at least 0.", e.Message);
    }

    [Fact]
    public void NaNIsOutsideEveryRange()
    {
        var e = Assert.Throws<HyperParameterRangeException>(() => HyperParameterRange.Check(Source, "lr", double.NaN, min: 0.0));
        Assert.Equal("hyperparameters of Classifier: 'lr' is NaN; expected at least 0.", e.Message);
        Assert.Throws<HyperParameterRangeException>(() => HyperParameterRange.Check(Source, "p", float.NaN, max: 1f));
        HyperParameterRange.Check<double>(Source, "free", double.NaN);   // no bound, nothing to check
    }

    [Fact]
    public void ChoicesAreComparedExactly()
    {
        HyperParameterRange.CheckChoice(Source, "optimizer", "sgd", "adam", "sgd");
        var e = Assert.Throws<HyperParameterRangeException>(() => HyperParameterRange.CheckChoice(Source, "optimizer", "Adam", "adam", "sgd"));
        Assert.Equal("hyperparameters of Classifier: 'optimizer' is \"Adam\"; expected one of adam, sgd.", e.Message);
        Assert.Equal("--optimizer: \"Adam\" is not allowed; expected one of adam, sgd.", e.ForOption("--optimizer"));
    }

    [Fact]
    public void BoundsAreInclusive()
    {
        HyperParameterRange.Check(Source, "n", 1, min: 1, max: 1);
        HyperParameterRange.Check(Source, "p", 0.0, min: 0.0, max: 1.0);
        HyperParameterRange.Check(Source, "p", 1.0, min: 0.0, max: 1.0);
        HyperParameterRange.Check(Source, "n", long.MaxValue, min: 0L);
        HyperParameterRange.Check(Source, "n", int.MinValue, max: 0);
    }

    /// <summary>For every value and bounds: Check throws exactly when the value is outside [lo, hi], and says so.</summary>
    [Fact]
    public void IntCheckMatchesTheDefinitionOfTheRange() =>
        Prop.ForAll<int, int, int>((value, a, b) =>
        {
            int lo = Math.Min(a, b), hi = Math.Max(a, b);
            var thrown = Record.Exception(() => HyperParameterRange.Check("s", "n", value, min: lo, max: hi));
            bool inside = value >= lo && value <= hi;
            return inside ? thrown is null
                : thrown is HyperParameterRangeException e && e.Message == $"s: 'n' is {value}; expected at least {lo} and at most {hi}.";
        }).QuickCheckThrowOnFailure();

    [Fact]
    public void DoubleCheckMatchesTheDefinitionOfTheRange() =>
        Prop.ForAll<double, double, bool>((value, bound, isMin) =>
        {
            if (double.IsNaN(bound)) return true;
            var thrown = Record.Exception(() =>
            {
                if (isMin) HyperParameterRange.Check("s", "x", value, min: bound);
                else HyperParameterRange.Check("s", "x", value, max: bound);
            });
            bool inside = isMin ? value >= bound : value <= bound;   // false for NaN
            return inside == (thrown is null) && (thrown is null or HyperParameterRangeException);
        }).QuickCheckThrowOnFailure();
}
