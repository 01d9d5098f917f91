using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.Json;
using Lightning.Cli;
using Lightning.Tests.Cli;
using Lightning.Tests.Training;
using Xunit;

namespace Lightning.Tests.Tuning;

/// <summary>Training batches from a function, as a data module.</summary>
internal sealed class BatchesDataModule<TBatch>(Func<IEnumerable<TBatch>> train) : LightningDataModule<TBatch>
{
    public override IEnumerable<TBatch> TrainDataLoader() => train();
}

/// <summary><c>fit --lr-find</c> on the generated command line (in process, as CliTests).</summary>
[Collection("Training")]
public sealed class LrFindCliTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("lightning-lrfind-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string[] Args(string[] args) => args.Concat(new[] { "--default-root-dir", _dir, "--enable-progress-bar", "false", "--threads", "1" }).ToArray();

    private (int Code, string Text, TinyClassifier? Model) Run(params string[] args)
    {
        var output = new StringWriter();
        TinyClassifier? trained = null;
        int code = TinyClassifier.RunCli(Args(args), _ => new BlobsDataModule(),
            new CliSettings<TinyClassifier, TinyClassifier.HParams> { Output = output, AfterFit = (_, m) => { trained = m; return 0; } });
        return (code, output.ToString(), trained);
    }

    private static string After(string text, string prefix) =>
        text.Split('\n').Select(l => l.TrimEnd()).Single(l => l.StartsWith(prefix, StringComparison.Ordinal))[prefix.Length..];

    private static double Suggested(string text)
    {
        var rest = After(text, "Learning-rate finder: suggested learning rate ");
        return double.Parse(rest[..rest.IndexOf(' ')], CultureInfo.InvariantCulture);
    }

    [Fact]
    public void FitWithLrFindSetsLearningRateToTheSuggestionWritesItToTheConfigAndDrawsThePlot()
    {
        var (code, text, model) = Run("fit", "--lr-find", "--max-epochs", "1", "--seed", "4");
        Assert.True(code == 0, text);
        double rate = Suggested(text);
        Assert.Contains($"learning_rate = {rate.ToString("R", CultureInfo.InvariantCulture)} (was 0.05)", text);
        Assert.Equal(rate, model!.Hparams.LearningRate);
        var config = After(text, "Config ");
        using (var document = JsonDocument.Parse(File.ReadAllText(config)))
            Assert.Equal(rate, document.RootElement.GetProperty("hparams").GetProperty("learning_rate").GetDouble());
        var plot = After(text, "Learning-rate finder plot ");
        Assert.Equal(Path.Combine(Path.GetDirectoryName(config)!, LrFindCli.ImageFileName), plot);
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, File.ReadAllBytes(plot)[..4]);
        Assert.Single(Directory.GetDirectories(Path.Combine(_dir, "lightning_logs")));   // the sweep made no run folder of its own
    }

    [Fact]
    public void TheFitStartsFromTheWeightsItWouldHaveHadWithoutLrFind()
    {
        // max_epochs 0: the fit leaves the weights as they were built (seeded), so the two runs must agree bit for bit.
        var (code, text, plain) = Run("fit", "--max-epochs", "0", "--seed", "4");
        Assert.True(code == 0, text);
        (code, text, var found) = Run("fit", "--lr-find", "--max-epochs", "0", "--seed", "4");
        Assert.True(code == 0, text);
        Assert.NotEqual(plain!.Hparams.LearningRate, found!.Hparams.LearningRate);
        var before = plain.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.bytes.ToArray());
        var after = found.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.bytes.ToArray());
        Assert.Equal(before, after);
    }

    [Fact]
    public void AModuleWithAnLrHyperparameterGetsItSet()
    {
        var output = new StringWriter();
        OneWeight? trained = null;
        int code = OneWeight.RunCli(Args(new[] { "fit", "--lr-find", "--max-epochs", "1" }), _ => new BatchesDataModule<(TorchSharp.torch.Tensor, TorchSharp.torch.Tensor)>(() => OneWeight.Batches1(8)),
            new CliSettings<OneWeight, OneWeight.HParams> { Output = output, AfterFit = (_, m) => { trained = m; return 0; } });
        Assert.True(code == 0, output.ToString());
        Assert.Equal(Suggested(output.ToString()), trained!.Hparams.Lr);
        Assert.Contains(" lr = ", output.ToString());
    }

    [Fact]
    public void AModuleWithoutARateHyperparameterIsAUsageErrorBeforeAnyTraining()
    {
        var output = new StringWriter();
        int code = TinyRegressor.RunCli(Args(new[] { "fit", "--lr-find" }), _ => new BatchesDataModule<RegressionBatch>(() => SyntheticData.Regression(4, 8, 1)),
            new CliSettings<TinyRegressor, TinyRegressor.HParams> { Output = output });
        Assert.Equal(2, code);
        Assert.StartsWith("error: --lr-find: Lightning.Tests.Training.TinyRegressor has no hyperparameter named lr or learning_rate (a number)", output.ToString());
        Assert.False(Directory.Exists(Path.Combine(_dir, "lightning_logs")));
    }

    [Fact]
    public void LrFindWithACheckpointToResumeIsAUsageError()
    {
        Assert.Equal(0, Run("fit", "--max-epochs", "1").Code);
        var (code, text, _) = Run("fit", "--lr-find", "--ckpt-path", "last", "--max-epochs", "2");
        Assert.Equal(2, code);
        Assert.Contains("error: --lr-find cannot be used with --ckpt-path: a resumed fit restores the checkpoint's optimizer", text);
    }

    [Fact]
    public void FastDevRunSkipsTheFinderAndKeepsTheRate()
    {
        var (code, text, model) = Run("fit", "--lr-find", "--fast-dev-run", "1");
        Assert.True(code == 0, text);
        Assert.Contains("Skipping the learning-rate finder: FastDevRun is set.", text);
        Assert.Contains("Learning-rate finder: no suggestion (0 steps are too few); learning_rate stays 0.05.", text);
        Assert.Equal(0.05, model!.Hparams.LearningRate);
    }

    [Fact]
    public void OnlyFitTakesLrFind()
    {
        var (code, text, _) = Run("fit", "--help");
        Assert.Equal(0, code);
        Assert.Contains("--lr-find", text);
        (code, text, _) = Run("validate", "--lr-find");
        Assert.Equal(2, code);
        Assert.Contains("--lr-find", text);
    }
}
