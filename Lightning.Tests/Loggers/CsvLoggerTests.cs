using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.Json;
using Lightning.Loggers;
using Xunit;

namespace Lightning.Tests.Loggers;

public sealed class CsvLoggerTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    private CsvLogger Started()
    {
        var csv = new CsvLogger();
        csv.Start(_temp.Path, FixedHyperParameters.Sample());
        return csv;
    }

    private static Dictionary<string, double> M(params (string Name, double Value)[] values) =>
        values.ToDictionary(v => v.Name, v => v.Value);

    /// <summary>The file's lines; the logger may still hold it open, as pandas would find it during training.</summary>
    private static string[] Lines(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        var text = new StreamReader(stream).ReadToEnd();
        Assert.EndsWith("\r\n", text);   // RFC 4180 records, as Python's csv module writes them
        return text[..^2].Split("\r\n");
    }

    [Fact]
    public void TheHeaderIsEpochStepThenTheSortedMetricNames()
    {
        var csv = Started();
        csv.LogMetrics(M(("val_loss", 0.5), ("loss", 0.25), ("acc", 0.75), ("Zeta", 1)), step: 10, epoch: 0);
        Assert.Equal(new[] { "epoch,step,Zeta,acc,loss,val_loss", "0,10,1,0.75,0.25,0.5" }, Lines(csv.MetricsPath!));
        Assert.Equal(new[] { "Zeta", "acc", "loss", "val_loss" }, csv.Columns);
    }

    [Fact]
    public void ANewMetricWidensTheHeaderAndEarlierRowsGetEmptyCells()
    {
        var csv = Started();
        csv.LogMetrics(M(("loss_step", 0.9)), 2, 0);
        csv.LogMetrics(M(("loss_step", 0.8)), 4, 0);
        Assert.Equal(new[] { "epoch,step,loss_step", "0,2,0.9", "0,4,0.8" }, Lines(csv.MetricsPath!));

        csv.LogMetrics(M(("val_acc", 0.5), ("val_loss", 0.7)), 4, 0);
        csv.LogMetrics(M(("loss", 0.85), ("loss_epoch", 0.85), ("epoch", 0)), 4, 0);
        csv.LogMetrics(M(("loss_step", 0.6)), 6, 1);
        Assert.Equal(new[]
        {
            "epoch,step,loss,loss_epoch,loss_step,val_acc,val_loss",
            "0,2,,,0.9,,",
            "0,4,,,0.8,,",
            "0,4,,,,0.5,0.7",
            "0,4,0.85,0.85,,,",
            "1,6,,,0.6,,",
        }, Lines(csv.MetricsPath!));
        Assert.False(File.Exists(csv.MetricsPath + ".tmp"));
    }

    [Fact]
    public void EveryRowIsOnDiskWhenLogMetricsReturnsWithoutFinish()
    {
        // No Finish, no Dispose: as after a crash, the rows logged so far must be in the file.
        var csv = Started();
        for (int step = 1; step <= 50; step++)
        {
            csv.LogMetrics(M(("loss", 1.0 / step)), step, step / 10);
            Assert.Equal(1 + step, Lines(csv.MetricsPath!).Length);
        }
        Assert.Equal("5,50,0.02", Lines(csv.MetricsPath!)[^1]);
    }

    [Fact]
    public void ValuesReadBackExactlyAndNonFiniteValuesAreWrittenAsPythonDoes()
    {
        var csv = Started();
        double[] values = { 0.1, 1.0 / 3, -2.5e-7, 123456789.125, double.Epsilon, 0 };
        csv.LogMetrics(values.Select((v, i) => ($"m{i}", v)).ToDictionary(x => x.Item1, x => x.v), 1, 0);
        csv.LogMetrics(M(("m0", double.NaN), ("m1", double.PositiveInfinity), ("m2", double.NegativeInfinity)), 2, 0);
        var lines = Lines(csv.MetricsPath!);
        var cells = lines[1].Split(',')[2..];
        Assert.Equal(values, cells.Select(c => double.Parse(c, CultureInfo.InvariantCulture)));
        Assert.Equal("0,2,nan,inf,-inf,,,", lines[2]);
    }

    [Fact]
    public void NamesThatNeedQuotingAreQuotedSoTheFileStaysOneTable()
    {
        var csv = Started();
        csv.LogMetrics(M(("a,b", 1), ("say \"hi\"", 2), ("-neg", 3)), 1, 0);
        Assert.Equal(new[] { "epoch,step,-neg,\"a,b\",\"say \"\"hi\"\"\"", "0,1,3,1,2" }, Lines(csv.MetricsPath!));
    }

    [Fact]
    public void EpochAndStepMetricsDoNotBecomeColumnsOfTheirOwn()
    {
        var csv = Started();
        csv.LogMetrics(M(("epoch", 7), ("step", 99), ("loss", 1)), 3, 2);
        Assert.Equal(new[] { "epoch,step,loss", "2,3,1" }, Lines(csv.MetricsPath!));
    }

    [Fact]
    public void HparamsJsonHoldsTheHyperParameters()
    {
        var csv = Started();
        Assert.Equal(Path.Combine(_temp.Path, "hparams.json"), csv.HparamsPath);
        using var doc = JsonDocument.Parse(File.ReadAllText(csv.HparamsPath!));
        Assert.Equal(0.001, doc.RootElement.GetProperty("learning_rate").GetDouble());
        Assert.Equal(64, doc.RootElement.GetProperty("hidden").GetInt32());
        Assert.Equal("adam", doc.RootElement.GetProperty("optimizer").GetString());
        Assert.False(File.Exists(csv.MetricsPath), "metrics.csv appears with the first metrics, as in Lightning");
    }

    [Fact]
    public void FinishClosesTheRunAndStartBeginsANewOne()
    {
        var csv = Started();
        csv.LogMetrics(M(("loss", 1)), 1, 0);
        csv.Finish();
        csv.Finish();
        var e = Assert.Throws<LightningException>(() => csv.LogMetrics(M(("loss", 2)), 2, 0));
        Assert.Contains("Finish", e.Message);

        var second = Path.Combine(_temp.Path, "second");
        csv.Start(second, FixedHyperParameters.Sample());
        csv.LogMetrics(M(("acc", 0.5)), 1, 0);
        csv.Dispose();
        Assert.Equal(new[] { "epoch,step,acc", "0,1,0.5" }, Lines(Path.Combine(second, "metrics.csv")));
        Assert.Equal(new[] { "epoch,step,loss", "0,1,1" }, Lines(Path.Combine(_temp.Path, "metrics.csv")));
    }

    [Fact]
    public void LogMetricsBeforeStartIsAClearError()
    {
        var e = Assert.Throws<LightningException>(() => new CsvLogger().LogMetrics(M(("loss", 1)), 1, 0));
        Assert.Contains("before Start", e.Message);
    }

    [Fact]
    public void AnUnwritableFolderIsAClearErrorNamingTheFile()
    {
        var file = Path.Combine(_temp.Path, "taken");
        File.WriteAllText(file, "");
        var e = Assert.Throws<LightningException>(() => new CsvLogger().Start(Path.Combine(file, "run"), FixedHyperParameters.Sample()));
        Assert.Contains("hparams.json", e.Message);
    }
}
