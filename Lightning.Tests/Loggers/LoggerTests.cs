using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Lightning.Loggers;
using Lightning.Tests.Training;
using Xunit;

namespace Lightning.Tests.Loggers;

[Collection("Training")]
public sealed class LoggerTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("lightning-loggers-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private TrainerOptions Options(int epochs, params ILightningLogger[] loggers) => new()
    {
        MaxEpochs = epochs, Output = TextWriter.Null, Threads = 1, Seed = 4, EnableCheckpointing = false, NumSanityValSteps = 0,
        DefaultRootDir = _dir, Loggers = loggers, LogEveryNSteps = 2,
    };

    [Fact]
    public void CsvLoggerWritesStepAndEpochRowsAndHparamsInTheVersionFolder()
    {
        var csv = new CsvLogger();
        var trainer = new Trainer(Options(2, csv));
        trainer.Fit(new TinyClassifier { LearningRate = 0.02 }, SyntheticData.Loader(64, 1, 16, true), SyntheticData.Loader(32, 2, 16, false));

        Assert.Equal(Path.Combine(_dir, "lightning_logs", "version_0"), trainer.LogDir);
        var lines = File.ReadAllLines(Path.Combine(trainer.LogDir, "metrics.csv"));
        Assert.Equal("epoch,step,acc,acc_epoch,acc_step,loss,loss_epoch,loss_step,val_acc,val_loss", lines[0]);
        // 4 steps an epoch, step values every 2 steps: 2 step rows, 1 validation row, 1 epoch row per epoch.
        Assert.Equal(1 + 2 * 4, lines.Length);
        var rows = lines.Skip(1).Select(l => l.Split(',')).ToList();
        Assert.All(rows, r => Assert.Equal(10, r.Length));
        Assert.Equal(new[] { "0", "2" }, rows[0][..2]);
        Assert.NotEqual("", rows[0][7]);    // loss_step at step 2
        Assert.Equal("", rows[0][8]);       // no val_acc in a step row
        Assert.Contains("\"learning_rate\": 0.02", File.ReadAllText(Path.Combine(trainer.LogDir, "hparams.json")));
    }

    [Fact]
    public void TensorBoardEventFileHoldsTheScalarTagsAndHparams()
    {
        var tb = new TensorBoardLogger();
        new Trainer(Options(2, tb)).Fit(new TinyClassifier(), SyntheticData.Loader(64, 1, 16, true), SyntheticData.Loader(32, 2, 16, false));
        var file = Assert.Single(Directory.GetFiles(tb.LogDirectory!, "events.out.tfevents.*"));
        var values = TfRecordFile.ReadEvents(file).Where(e => e.Summary is not null).SelectMany(e => e.Summary.Value.Select(v => (e.Step, v))).ToList();
        var tags = values.Select(x => x.v.Tag).ToHashSet();
        foreach (var tag in new[] { "val_loss", "val_acc", "loss_step", "loss", "acc", "epoch", "hparams/text_summary" }) Assert.Contains(tag, tags);
        // 4 steps an epoch: val_loss after each epoch, at global steps 4 and 8 (the trainer sends it with the validation
        // run's values and again with the epoch's record).
        Assert.Equal(new long[] { 4, 8 }, values.Where(x => x.v.Tag == "val_loss").Select(x => x.Step).Distinct());
        Assert.Contains("| hidden | 16 | hidden units |", values.Single(x => x.v.Tag == "hparams/text_summary").v.Tensor.StringVal.Single().ToStringUtf8());
    }

    [Fact]
    public void PlotLoggerDrawsAPngOfTheCurvesAtTheEndOfTheFit()
    {
        var plot = new PlotLogger();
        new Trainer(Options(3, plot)).Fit(new TinyClassifier(), SyntheticData.Loader(64, 1, 16, true), SyntheticData.Loader(32, 2, 16, false));
        var png = File.ReadAllBytes(plot.ImagePath!);
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A }, png[..8]);
        // IHDR: width and height, big-endian, after the signature and the chunk header. Panels: acc, loss.
        int width = (png[16] << 24) | (png[17] << 16) | (png[18] << 8) | png[19];
        int height = (png[20] << 24) | (png[21] << 16) | (png[22] << 8) | png[23];
        Assert.Equal((2 * 480, 320), (width, height));
        Assert.True(png.Length > 10_000);
        if (Environment.GetEnvironmentVariable("LIGHTNING_KEEP_PLOT") is string keep) File.Copy(plot.ImagePath!, keep, overwrite: true);
    }

    [Fact]
    public void DefaultLoggersAreCsvAndPlotAndSeveralRunAtOnce()
    {
        var trainer = new Trainer(Options(1) with { Loggers = null });
        trainer.Fit(new TinyClassifier(), SyntheticData.Loader(32, 1, 16, true));
        Assert.True(File.Exists(Path.Combine(trainer.LogDir, "metrics.csv")));
        Assert.True(File.Exists(Path.Combine(trainer.LogDir, "metrics.png")));

        var again = new Trainer(Options(1, new CsvLogger(), new TensorBoardLogger()));
        again.Fit(new TinyClassifier(), SyntheticData.Loader(32, 1, 16, true));
        Assert.EndsWith("version_1", again.LogDir);
        Assert.True(File.Exists(Path.Combine(again.LogDir, "metrics.csv")));
        Assert.NotEmpty(Directory.GetFiles(again.LogDir, "events.out.tfevents.*"));
    }

    [Fact]
    public void ALoggerThatFailsToFinishDoesNotFailTheFit()
    {
        var output = new StringWriter();
        var trainer = new Trainer(Options(1, new FailingLogger()) with { Output = output });
        trainer.Fit(new TinyClassifier(), SyntheticData.Loader(32, 1, 16, true));
        Assert.Single(trainer.History);
        Assert.Contains("Logger 'failing' could not finish: IOException: disk full", output.ToString());
    }

    private sealed class FailingLogger : ILightningLogger
    {
        public string Name => "failing";
        public void Start(string logDirectory, IHyperParameters hparams) { }
        public void LogMetrics(IReadOnlyDictionary<string, double> metrics, long step, int epoch) { }
        public void Finish() => throw new IOException("disk full");
        public void Dispose() { }
    }
}
