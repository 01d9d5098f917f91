using FsCheck;
using FsCheck.Fluent;
using Lightning.Tests.Training;
using Xunit;

namespace Lightning.Tests.Hyperparameters;

/// <summary>
/// The generated <c>HParams.Validate</c> of TinyClassifier (hidden: Min = 1, Max = 256; lr_decay and dropout: Min = 0, Max = 1;
/// optimizer: Choices adam, sgd), applied by FromJson and Create.
/// </summary>
[Collection("Training")]
public sealed class GeneratedRangeTests
{
    [Theory]
    [InlineData("{\"hidden\": 0}", "hyperparameters of TinyClassifier: 'hidden' is 0; expected at least 1 and at most 256.")]
    [InlineData("{\"hidden\": -4}", "hyperparameters of TinyClassifier: 'hidden' is -4; expected at least 1 and at most 256.")]
    [InlineData("{\"hidden\": 257}", "hyperparameters of TinyClassifier: 'hidden' is 257; expected at least 1 and at most 256.")]
    [InlineData("{\"lr_decay\": 1.01}", "hyperparameters of TinyClassifier: 'lr_decay' is 1.01; expected at least 0 and at most 1.")]
    [InlineData("{\"learning_rate\": -0.1}", "hyperparameters of TinyClassifier: 'learning_rate' is -0.1; expected at least 0.")]
    [InlineData("{\"lr_frequency\": 0}", "hyperparameters of TinyClassifier: 'lr_frequency' is 0; expected at least 1.")]
    [InlineData("{\"optimizer\": \"adamw\"}", "hyperparameters of TinyClassifier: 'optimizer' is \"adamw\"; expected one of adam, sgd.")]
    public void FromJsonRejectsAValueOutOfRangeWithOneLine(string json, string message)
    {
        var e = Assert.Throws<HyperParameterRangeException>(() => TinyClassifier.HParams.FromJson(json));
        Assert.Equal(message, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void FromJsonNamesItsSource()
    {
        var e = Assert.Throws<HyperParameterRangeException>(() => TinyClassifier.HParams.FromJson("{\"hidden\": 0, \"learning_rate\": 0.1}", "run.json: hparams"));
        Assert.Equal("run.json: hparams: 'hidden' is 0; expected at least 1 and at most 256.", e.Message);
        Assert.Equal("hidden", e.Name);
    }

    [Theory]
    [InlineData("{\"hidden\": 1}")]
    [InlineData("{\"hidden\": 256}")]
    [InlineData("{\"lr_decay\": 0, \"dropout\": 0}")]
    [InlineData("{\"lr_decay\": 1, \"dropout\": 1}")]
    [InlineData("{\"learning_rate\": 0}")]
    [InlineData("{\"lr_frequency\": 1, \"optimizer\": \"sgd\", \"lr_interval\": \"step\"}")]
    public void BoundariesAreAccepted(string json)
    {
        var hparams = TinyClassifier.HParams.FromJson(json);
        using var model = TinyClassifier.Create(hparams);
        Assert.Equal(hparams, model.Hparams);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-4)]
    [InlineData(1_000_000)]
    public void CreateRejectsBeforeAnyLayerIsBuilt(int hidden)
    {
        var e = Assert.Throws<HyperParameterRangeException>(() => TinyClassifier.Create(new TinyClassifier.HParams { Hidden = hidden }));
        Assert.Equal($"hyperparameters of TinyClassifier: 'hidden' is {hidden}; expected at least 1 and at most 256.", e.Message);
    }

    [Fact]
    public void ValidateIsReachableThroughTheInterface()
    {
        IHyperParameters hparams = new TinyClassifier.HParams { Dropout = 2 };
        var e = Assert.Throws<HyperParameterRangeException>(() => hparams.Validate("mine"));
        Assert.Equal("mine: 'dropout' is 2; expected at least 0 and at most 1.", e.Message);
    }

    /// <summary>For every whole number: FromJson accepts it exactly when it is in [1, 256].</summary>
    [Fact]
    public void FromJsonAcceptsExactlyTheDeclaredRange() =>
        Prop.ForAll<int>(hidden =>
        {
            var json = "{\"hidden\": " + hidden + "}";
            var thrown = Record.Exception(() => TinyClassifier.HParams.FromJson(json));
            return hidden is >= 1 and <= 256 ? thrown is null : thrown is HyperParameterRangeException { Name: "hidden" };
        }).QuickCheckThrowOnFailure();
}
