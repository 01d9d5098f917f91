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

    [Theory]
    [InlineData("--accumulate-grad-batches", "0", "--accumulate-grad-batches is 0; expected at least 1.")]
    [InlineData("--max-epochs", "-2", "--max-epochs is -2; expected -1 (no limit) or 0 or more.")]
    [InlineData("--max-steps", "-5", "--max-steps is -5; expected -1 (no limit) or 0 or more.")]
    [InlineData("--fast-dev-run", "-1", "--fast-dev-run is -1; expected 0 (off) or a number of batches.")]
    [InlineData("--num-sanity-val-steps", "-3", "--num-sanity-val-steps is -3; expected -1 (all) or 0 or more.")]
    [InlineData("--gradient-clip-val", "-1", "--gradient-clip-val is -1; expected a positive number.")]
    [InlineData("--threads", "0", "--threads is 0; expected at least 1.")]
    [InlineData("--check-val-every-n-epoch", "0", "--check-val-every-n-epoch is 0; expected 1 or more")]
    [InlineData("--val-check-interval", "0", "--val-check-interval is 0; expected a positive number of batches or a fraction in (0, 1].")]
    [InlineData("--log-every-n-steps", "0", "--log-every-n-steps is 0; expected at least 1.")]
    [InlineData("--max-time", "00:00:00:00", "--max-time: '00:00:00:00' is not valid")]
    public void TrainerOptionRangesEndWithExitTwoAndOneLineNamingTheOption(string option, string value, string expected)
    {
        var (code, text, _) = Run("fit", option, value);
        Assert.Equal(2, code);
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);   // the error and the pointer to --help, no help text, no stack trace
        Assert.StartsWith("error: " + expected, lines[0]);
        Assert.Equal(LightningCli.HelpHint, lines[1].TrimEnd());
    }

    [Theory]
    [InlineData("--gradient-clip-algorithm", "l2", "--gradient-clip-algorithm: 'l2' is not valid; expected \"norm\" or \"value\".")]
    [InlineData("--gradient-clip-algorithm", "Value", "--gradient-clip-algorithm: 'Value' is not valid; expected \"norm\" or \"value\".")]
    [InlineData("--strategy", "fsdp", "--strategy: 'fsdp' is not valid; expected \"auto\", \"single_device\" or \"ddp\".")]
    [InlineData("--precision", "half", "--precision: 'half' is not valid; expected \"32-true\", \"64-true\" or \"bf16-true\" (or Lightning's")]
    [InlineData("--precision", "Float64", "--precision: 'Float64' is not valid; expected \"32-true\"")]   // Lightning's spellings, not the C# names
    [InlineData("--precision", "16-mixed", "--precision is \"16-mixed\", which needs automatic mixed precision")]
    [InlineData("--precision", "16", "--precision is \"16-mixed\", which needs automatic mixed precision")]    // Lightning's alias
    [InlineData("--precision", "bf16", "--precision is \"bf16-mixed\", which needs automatic mixed precision")]
    [InlineData("--precision", "16-true", "--precision is \"16-true\" (every op in float16), which the CPU does not support")]
    public void AnEnumValueOutsideLightningsSpellingsIsOneLineNamingTheOptionAndTheSpellings(string option, string value, string expected)
    {
        var (code, text, model) = Run("fit", option, value);
        Assert.Equal(2, code);
        Assert.Null(model);
        var lines = Lines(text);
        Assert.Equal(2, lines.Length);
        Assert.StartsWith("error: " + expected, lines[0]);
        Assert.Equal(LightningCli.HelpHint, lines[1]);
    }

    [Theory]
    [InlineData("--precision", "64-true")]
    [InlineData("--precision", "64")]   // Lightning's alias of "64-true"
    [InlineData("--gradient-clip-algorithm", "value")]
    [InlineData("--strategy", "single_device")]
    public void LightningsSpellingsSetTheEnumOptionsAndTheConfigWritesThemBack(string option, string value)
    {
        Trainer? trainer = null;
        var output = new StringWriter();
        int code = TinyClassifier.RunCli(new[] { "fit", option, value, "--max-epochs", "1", "--limit-train-batches", "2", "--gradient-clip-val", "1",
                "--default-root-dir", _dir, "--enable-progress-bar", "false" },
            _ => new BlobsDataModule(),
            new CliSettings<TinyClassifier, TinyClassifier.HParams> { Output = output, AfterFit = (t, _) => { trainer = t; return 0; } });
        Assert.True(code == 0, output.ToString());
        var options = trainer!.Options;
        Assert.Equal(option == "--precision" ? TrainingPrecision.Float64 : TrainingPrecision.Float32, options.Precision);
        Assert.Equal(option == "--gradient-clip-algorithm" ? GradientClipAlgorithm.Value : GradientClipAlgorithm.Norm, options.GradientClipAlgorithm);
        Assert.Equal(option == "--strategy" ? Strategy.SingleDevice : Strategy.Auto, options.Strategy);
        var configPath = output.ToString().Split('\n').Single(l => l.StartsWith("Config ", StringComparison.Ordinal))["Config ".Length..].Trim();
        using var config = JsonDocument.Parse(File.ReadAllText(configPath));
        var trainerSection = config.RootElement.GetProperty("trainer");
        Assert.Equal(option == "--precision" ? "64-true" : "32-true", trainerSection.GetProperty("precision").GetString());
        Assert.Equal(option == "--gradient-clip-algorithm" ? "value" : "norm", trainerSection.GetProperty("gradient_clip_algorithm").GetString());
        Assert.Equal(option == "--strategy" ? "single_device" : "auto", trainerSection.GetProperty("strategy").GetString());
    }

    [Theory]
    [InlineData("\"bf16-true\"", TrainingPrecision.BFloat16)]
    [InlineData("64", TrainingPrecision.Float64)]   // Lightning's int flag (precision: 64 in its YAML), _PRECISION_INPUT_INT
    public void AConfigFileTakesLightningsPrecisionSpelling(string json, TrainingPrecision expected)
    {
        var path = Path.Combine(_dir, "precision.json");
        File.WriteAllText(path, "{\"trainer\": {\"precision\": " + json + ", \"max_epochs\": 1, \"limit_train_batches\": 2}}");
        Trainer? trainer = null;
        var output = new StringWriter();
        int code = TinyClassifier.RunCli(new[] { "fit", "--config", path, "--default-root-dir", _dir, "--enable-progress-bar", "false" },
            _ => new BlobsDataModule(),
            new CliSettings<TinyClassifier, TinyClassifier.HParams> { Output = output, AfterFit = (t, _) => { trainer = t; return 0; } });
        Assert.True(code == 0, output.ToString());
        Assert.Equal(expected, trainer!.Options.Precision);
    }

    [Theory]
    [InlineData("\"half\"", "'precision' is \"half\"; expected \"32-true\", \"64-true\" or \"bf16-true\"")]
    [InlineData("\"BF16-TRUE\"", "'precision' is \"BF16-TRUE\"; expected \"32-true\"")]
    [InlineData("true", "'precision' is true; expected \"32-true\"")]
    [InlineData("{}", "'precision' is {}; expected \"32-true\"")]
    public void ABadEnumValueInAConfigFileIsOneLineNamingTheFileAndTheSpellings(string json, string expected)
    {
        var path = Path.Combine(_dir, "bad.json");
        File.WriteAllText(path, "{\"trainer\": {\"precision\": " + json + "}}");
        var (code, text, _) = Run("fit", "--config", path);
        Assert.Equal(2, code);
        var lines = Lines(text);
        Assert.Equal(2, lines.Length);
        Assert.StartsWith($"error: {path}: " + expected, lines[0]);
        Assert.Equal(LightningCli.HelpHint, lines[1]);
    }

    [Fact]
    public void HelpListsLightningsSpellingsAndDefaultsNotTheCSharpNames()
    {
        var (_, text, _) = Run("fit", "--help");
        var help = System.Text.RegularExpressions.Regex.Replace(text, @"\s+", " ");
        Assert.Contains("--precision <32-true|64-true|bf16-true>", help);   // the ones that train; the description names the refused ones
        Assert.Contains("16-mixed and bf16-mixed need autocast", help);
        Assert.Contains("--strategy <auto|single_device|ddp>", help);
        Assert.Contains("--gradient-clip-algorithm <norm|value>", help);
        Assert.Contains("[default: norm]", help);
        Assert.Contains("[default: auto]", help);
        Assert.Contains("--lr-interval <step|epoch>", help);   // an enum hyperparameter of Lightning's (Interval)
        Assert.DoesNotContain("Float32", help);
        Assert.DoesNotContain("SingleDevice", help);
    }

    [Fact]
    public void ParseErrorsAreOneLineEachAndAHintNotTheWholeHelp()
    {
        var (code, text, _) = Run("fit", "--max-epochs", "abc", "--no-such-option");
        Assert.Equal(2, code);
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd()).ToList();
        Assert.All(lines.SkipLast(1), l => Assert.StartsWith("error: ", l));
        Assert.Equal(LightningCli.HelpHint, lines[^1]);
        Assert.True(lines.Count <= 4, text);
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
        Assert.Equal(2, code);
        Assert.Contains("missing.ckpt' does not exist", text);

        (code, text, _) = Run("test", "--ckpt-path", _dir);
        Assert.Equal(2, code);
        Assert.Contains($"--ckpt-path: '{_dir}' is a folder", text);
    }

    [Fact]
    public void ResumeBuildsTheModuleFromTheCheckpointsHyperparametersAndSaysWhichWereOverridden()
    {
        Assert.Equal(0, Run("fit", "--hidden", "24", "--learning-rate", "0.02", "--max-epochs", "1", "--seed", "3").Code);

        // As docs/cli.md suggests: no need to repeat --hidden 24; the checkpoint's values are used.
        var (code, text, resumed) = Run("fit", "--ckpt-path", "last", "--max-epochs", "2");
        Assert.Equal(0, code);
        Assert.Equal(24, resumed!.Hparams.Hidden);
        Assert.Equal(0.02, resumed.Hparams.LearningRate);
        Assert.Contains("Hyperparameters from ", text);
        Assert.Contains("Resumed from ", text);

        // A value given explicitly overrides the checkpoint's, and is named.
        (code, text, resumed) = Run("fit", "--ckpt-path", "last", "--max-epochs", "3", "--learning-rate", "0.01");
        Assert.Equal(0, code);
        Assert.Equal(0.01, resumed!.Hparams.LearningRate);
        Assert.Contains("except learning_rate=0.01 (checkpoint: 0.02) (given)", text);

        // An override that changes the shapes fails in one line, before any run folder is made.
        var folders = Directory.GetDirectories(Path.Combine(_dir, "lightning_logs")).Length;
        (code, text, _) = Run("fit", "--ckpt-path", "last", "--max-epochs", "4", "--hidden", "8");
        Assert.Equal(1, code);
        Assert.Contains("error: Checkpoint '", text);
        Assert.Contains("its weights do not fit the module", text);
        Assert.DoesNotContain("   at ", text);
        Assert.Equal(folders, Directory.GetDirectories(Path.Combine(_dir, "lightning_logs")).Length);
    }

    [Fact]
    public void AResumeIntoANewRunFolderKeepsEveryFileOfTheOldOne()
    {
        Assert.Equal(0, Run("fit", "--max-epochs", "2", "--seed", "3").Code);
        var old = Path.Combine(_dir, "lightning_logs", "version_0", "checkpoints");
        var before = Directory.GetFiles(old).OrderBy(f => f).ToList();
        Assert.NotEmpty(before);
        Assert.Equal(0, Run("fit", "--ckpt-path", "last", "--max-epochs", "4").Code);
        Assert.Equal(before, Directory.GetFiles(old).OrderBy(f => f).ToList());
        Assert.NotEmpty(Directory.GetFiles(Path.Combine(_dir, "lightning_logs", "version_1", "checkpoints")));
    }

    [Fact]
    public void BadConfigFilesAreClearErrors()
    {
        var path = Path.Combine(_dir, "bad.json");
        File.WriteAllText(path, "{\"trainer\": {\"max_epoch\": 3}}");
        var (code, text, _) = Run("fit", "--config", path);
        Assert.Equal(2, code);
        Assert.Contains("'trainer.max_epoch' is not a trainer option", text);

        File.WriteAllText(path, "{\"trainer\": {\"max_epochs\": \"three\"}}");
        (code, text, _) = Run("fit", "--config", path);
        Assert.Equal(2, code);
        Assert.Contains("'max_epochs' is the string \"three\"; expected a whole number", text);

        // One rule for both sections: a number in quotes is refused in the trainer section as in the hparams section.
        File.WriteAllText(path, "{\"trainer\": {\"max_epochs\": \"5\"}}");
        (code, text, _) = Run("fit", "--config", path);
        Assert.Equal(2, code);
        Assert.Contains("'max_epochs' is the string \"5\"; expected a whole number", text);

        File.WriteAllText(path, "{\"trainer\": {\"max_epochs\": 1, \"max_epochs\": 2}}");
        (code, text, _) = Run("fit", "--config", path);
        Assert.Equal(2, code);
        Assert.Contains("duplicate", text, StringComparison.OrdinalIgnoreCase);

        File.WriteAllText(path, "{\"trainer\": {\"accumulate_grad_batches\": 0}}");
        (code, text, _) = Run("fit", "--config", path);
        Assert.Equal(2, code);
        Assert.Contains("--accumulate-grad-batches is 0; expected at least 1.", text);

        File.WriteAllText(path, "{\"hparams\": {\"hiden\": 3}}");
        (code, text, _) = Run("fit", "--config", path);
        Assert.Equal(2, code);
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

    [Fact]
    public void OnlyTheSubcommandsTheModulesStepsSupportAreOffered()
    {
        // ManualClassifier has a training step only: fit, no validate, test or predict.
        int Manual(params string[] args)
        {
            var output = new StringWriter();
            int code = ManualClassifier.RunCli(args.Concat(new[] { "--default-root-dir", _dir }).ToArray(), _ => new BlobsDataModule(),
                new CliSettings<ManualClassifier, ManualClassifier.HParams> { Output = output });
            _text = output.ToString();
            return code;
        }
        Assert.Equal(0, Manual("--help"));
        Assert.Matches(@"(?m)^\s+fit\s", _text);
        foreach (var missing in new[] { "validate", "test", "predict" })
            Assert.DoesNotMatch($@"(?m)^\s+{missing}\s", _text);
        foreach (var missing in new[] { "validate", "test", "predict" })
        {
            Assert.Equal(2, Manual(missing));
            Assert.Contains(missing, _text);
            Assert.Contains(LightningCli.HelpHint, _text);
        }

        // TinyClassifier has every step: all four are offered.
        var (code, text, _) = Run("--help");
        Assert.Equal(0, code);
        foreach (var command in new[] { "fit", "validate", "test", "predict" })
            Assert.Matches($@"(?m)^\s+{command}\s", text);
    }

    private string _text = "";
}
