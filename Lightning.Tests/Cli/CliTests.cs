using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using Lightning.Cli;
using Lightning.Tests.Training;
using Xunit;
using static TorchSharp.torch;

namespace Lightning.Tests.Cli;

/// <summary>Synthetic blobs as a data module, for the command line.</summary>
internal sealed class BlobsDataModule : LightningDataModule<(Tensor X, Tensor Y)>
{
    public override IEnumerable<(Tensor X, Tensor Y)> TrainDataLoader() => SyntheticData.Loader(96, 1, 16, true);
    public override IEnumerable<(Tensor X, Tensor Y)> ValDataLoader() => SyntheticData.Loader(32, 2, 16, false);
    public override IEnumerable<(Tensor X, Tensor Y)> TestDataLoader() => SyntheticData.Loader(48, 3, 16, false);
    public override IEnumerable<(Tensor X, Tensor Y)> PredictDataLoader() => SyntheticData.Loader(40, 4, 16, false);
}

[Collection("Training")]
public sealed class CliTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("lightning-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private (int Code, string Text, TinyClassifier? Model) Run(params string[] args)
    {
        var output = new StringWriter();
        TinyClassifier? trained = null;
        int code = TinyClassifier.RunCli(args.Concat(new[] { "--default-root-dir", _dir, "--enable-progress-bar", "false" }).ToArray(),
            _ => new BlobsDataModule(),
            new CliSettings<TinyClassifier, TinyClassifier.HParams> { Output = output, AfterFit = (_, m) => { trained = m; return 0; } });
        return (code, output.ToString(), trained);
    }

    private static Dictionary<string, float[]> Weights(TinyClassifier model) =>
        model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.data<float>().ToArray());

    [Fact]
    public void HelpListsEveryHyperparameterAndTrainerOptionWithDefaultsAndDescriptions()
    {
        var (code, text, _) = Run("fit", "--help");
        Assert.Equal(0, code);
        foreach (var option in new[] { "--hidden", "--learning-rate", "--optimizer", "--lr-decay", "--max-epochs", "--max-steps", "--val-check-interval",
                     "--precision", "--accumulate-grad-batches", "--gradient-clip-val", "--seed", "--config", "--ckpt-path" })
            Assert.Contains(option, text);
        Assert.Contains("hidden units", text);           // the hyperparameter's description
        Assert.Contains("[default: 16]", text);          // its default
        Assert.Contains("[default: 32-true]", text);
    }

    [Theory]
    [InlineData("--max-epochs", "abc", "--max-epochs: 'abc' is not valid; expected a whole number (or null)")]
    [InlineData("--learning-rate", "fast", "--learning-rate: 'fast' is not valid; expected a number")]
    [InlineData("--limit-train-batches", "1.5", "expected a number of batches (e.g. 10) or a fraction in [0, 1]")]
    public void BadValuesNameTheOptionAndTheExpectedType(string option, string value, string expected)
    {
        var (code, text, _) = Run("fit", option, value);
        Assert.Equal(2, code);
        Assert.Contains(expected, text);
    }

    [Fact]
    public void TrainerOptionRangesAreCheckedWithTheOptionName()
    {
        var (code, text, _) = Run("fit", "--accumulate-grad-batches", "0");
        Assert.Equal(1, code);
        Assert.Contains("AccumulateGradBatches must be at least 1", text);
    }

    [Fact]
    public void FitWritesTheEffectiveConfigAndTheConfigReproducesTheRun()
    {
        var (code, text, first) = Run("fit", "--hidden", "8", "--learning-rate", "0.02", "--max-epochs", "2", "--seed", "5");
        Assert.Equal(0, code);
        Assert.Equal(8, first!.Hparams.Hidden);
        Assert.Equal(0.02, first.Hparams.LearningRate);
        var configPath = text.Split('\n').Single(l => l.StartsWith("Config ", StringComparison.Ordinal))["Config ".Length..].Trim();
        using (var config = JsonDocument.Parse(File.ReadAllText(configPath)))
        {
            Assert.Equal(8, config.RootElement.GetProperty("hparams").GetProperty("hidden").GetInt32());
            Assert.Equal(2, config.RootElement.GetProperty("trainer").GetProperty("max_epochs").GetInt32());
            Assert.Equal(5, config.RootElement.GetProperty("trainer").GetProperty("seed").GetInt64());
            Assert.Equal("1.0", config.RootElement.GetProperty("trainer").GetProperty("limit_train_batches").GetString());   // all, not one batch
        }

        var (again, againText, second) = Run("fit", "--config", configPath);
        Assert.Equal(0, again);
        Assert.Equal(first.Hparams, second!.Hparams);
        var secondConfig = againText.Split('\n').Single(l => l.StartsWith("Config ", StringComparison.Ordinal))["Config ".Length..].Trim();
        Assert.Equal(File.ReadAllText(configPath).Replace("version_0", "version_1"), File.ReadAllText(secondConfig));
        var expected = Weights(first);
        foreach (var (key, values) in Weights(second!)) Assert.Equal(expected[key], values);

        // Options on the command line override the file.
        var (_, _, third) = Run("fit", "--config", configPath, "--hidden", "4", "--max-epochs", "1");
        Assert.Equal(4, third!.Hparams.Hidden);
    }

    [Fact]
    public void TestAndPredictLoadTheLastOrBestCheckpoint()
    {
        Assert.Equal(0, Run("fit", "--max-epochs", "2", "--seed", "1").Code);
        var (code, text, _) = Run("test", "--ckpt-path", "last");
        Assert.Equal(0, code);
        Assert.Contains("Weights from ", text);
        Assert.Matches(@"test_acc \d\.\d{5}", text);

        (code, text, _) = Run("predict", "--ckpt-path", "last");
        Assert.Equal(0, code);
        var predictions = text.Split('\n').Single(l => l.StartsWith("Predictions ", StringComparison.Ordinal))["Predictions ".Length..].Trim();
        Assert.Equal(41, File.ReadAllLines(predictions).Length);

        (code, text, _) = Run("test", "--ckpt-path", Path.Combine(_dir, "missing.ckpt"));
        Assert.Equal(1, code);
        Assert.Contains("missing.ckpt", text);
    }

    [Fact]
    public void BadConfigFilesAreClearErrors()
    {
        var path = Path.Combine(_dir, "bad.json");
        File.WriteAllText(path, "{\"trainer\": {\"max_epoch\": 3}}");
        var (code, text, _) = Run("fit", "--config", path);
        Assert.Equal(1, code);
        Assert.Contains("'trainer.max_epoch' is not a trainer option", text);

        File.WriteAllText(path, "{\"trainer\": {\"max_epochs\": \"three\"}}");
        (code, text, _) = Run("fit", "--config", path);
        Assert.Contains("'max_epochs' is \"three\"; expected a whole number", text);

        File.WriteAllText(path, "{\"hparams\": {\"hiden\": 3}}");
        (code, text, _) = Run("fit", "--config", path);
        Assert.Equal(1, code);
        Assert.Contains("hiden", text);
    }

    private static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).ToArray();

    [Theory]
    [InlineData("0")]
    [InlineData("-4")]
    [InlineData("257")]
    public void AHyperparameterOutOfRangeIsOneErrorLineAndAHint(string value)
    {
        var (code, text, model) = Run("fit", "--hidden", value);
        Assert.Equal(2, code);
        Assert.Null(model);
        Assert.Equal(new[] { $"error: --hidden: {value} is out of range; expected at least 1 and at most 256.", "Run with --help to see the options." }, Lines(text));
        Assert.Empty(Directory.GetDirectories(_dir));   // nothing was built or written
    }

    [Fact]
    public void AStringOutsideItsChoicesIsOneErrorLineAndAHint()
    {
        var (code, text, _) = Run("validate", "--optimizer", "adamw");
        Assert.Equal(2, code);
        Assert.Equal(new[] { "error: --optimizer: \"adamw\" is not allowed; expected one of adam, sgd.", "Run with --help to see the options." }, Lines(text));
    }

    [Fact]
    public void AConfigFileValueOutOfRangeIsOneErrorLineNamingTheFileAndAHint()
    {
        var path = Path.Combine(_dir, "run.json");
        File.WriteAllText(path, "{\"hparams\": {\"hidden\": 0}, \"trainer\": {\"max_epochs\": 1}}");
        var (code, text, _) = Run("fit", "--config", path);
        Assert.Equal(2, code);
        Assert.Equal(new[] { $"error: {path}: hparams: 'hidden' is 0; expected at least 1 and at most 256.", "Run with --help to see the options." }, Lines(text));
    }

    [Theory]
    [InlineData("--hidden", "1")]
    [InlineData("--hidden", "256")]
    [InlineData("--lr-decay", "0")]
    [InlineData("--lr-decay", "1")]
    [InlineData("--learning-rate", "0")]
    public void BoundaryValuesAreAccepted(string option, string value)
    {
        var (code, text, _) = Run("validate", option, value, "--limit-val-batches", "1");
        Assert.True(code == 0, text);
        Assert.Contains("val_acc", text);
    }

    [Fact]
    public void HelpShowsTheRanges()
    {
        var (_, text, _) = Run("fit", "--help");
        Assert.Contains("hidden units (at least 1 and at most 256)", System.Text.RegularExpressions.Regex.Replace(text, @"\s+", " "));
        Assert.Contains("one of adam, sgd", text);
    }

    [Fact]
    public void BooleanOptionsTakeAValueOrStandAlone()
    {
        var (code, text, _) = Run("fit", "--max-epochs", "1", "--enable-checkpointing", "false", "--enable-model-summary");
        Assert.Equal(0, code);
        Assert.Contains("Total params", text);                     // the summary flag alone means true
        Assert.Empty(Directory.GetDirectories(_dir, "checkpoints", SearchOption.AllDirectories));
    }
}
