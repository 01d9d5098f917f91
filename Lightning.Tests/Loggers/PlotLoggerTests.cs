using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Lightning.Loggers;
using Xunit;

namespace Lightning.Tests.Loggers;

public sealed class PlotLoggerTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    /// <summary>Three epochs as the trainer sends them: step values, a validation run, the epoch's record.</summary>
    private static void LogThreeEpochs(ILightningLogger logger, params string[] extraStems)
    {
        for (int epoch = 0; epoch < 3; epoch++)
        {
            long step = 10 * (epoch + 1);
            logger.LogMetrics(new Dictionary<string, double> { ["loss_step"] = 2.0 - epoch }, step - 5, epoch);
            logger.LogMetrics(new Dictionary<string, double> { ["val_loss"] = 1.2 - 0.3 * epoch, ["val_acc"] = 0.5 + 0.1 * epoch }, step, epoch);
            var record = new Dictionary<string, double>
            {
                ["loss"] = 1.0 - 0.25 * epoch, ["loss_epoch"] = 1.0 - 0.25 * epoch, ["loss_step"] = 0.9, ["acc"] = 0.4 + 0.2 * epoch, ["epoch"] = epoch,
            };
            foreach (var stem in extraStems) record[stem] = epoch;
            logger.LogMetrics(record, step, epoch);
        }
    }

    private static (int Width, int Height) PngSize(byte[] png)
    {
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A }, png[..8]);
        Assert.Equal("IHDR", System.Text.Encoding.ASCII.GetString(png, 12, 4));
        int width = (png[16] << 24) | (png[17] << 16) | (png[18] << 8) | png[19];
        int height = (png[20] << 24) | (png[21] << 16) | (png[22] << 8) | png[23];
        return (width, height);
    }

    [Fact]
    public void FinishDrawsOnePngWithAPanelPerStem()
    {
        var plot = new PlotLogger();
        plot.Start(_temp.Path, FixedHyperParameters.Sample());
        LogThreeEpochs(plot);
        Assert.Null(plot.ImagePath);
        plot.Finish();

        Assert.Equal(Path.Combine(_temp.Path, "metrics.png"), plot.ImagePath);
        var png = File.ReadAllBytes(plot.ImagePath!);
        Assert.Equal((2 * 480, 320), PngSize(png));   // panels acc and loss
        Assert.InRange(png.Length, 10_000, 2_000_000);
        if (Environment.GetEnvironmentVariable("LIGHTNING_KEEP_PLOT") is string keep) File.Copy(plot.ImagePath!, keep, overwrite: true);

        // The training series (ScottPlot's first color, blue) and the validation series (second, orange) are both drawn.
        using var bitmap = SkiaSharp.SKBitmap.Decode(png);
        int blue = 0, orange = 0;
        for (int y = 0; y < bitmap.Height; y++)
            for (int x = 0; x < bitmap.Width; x++)
            {
                var c = bitmap.GetPixel(x, y);
                if (Near(c, 0x1f, 0x77, 0xb4)) blue++;
                if (Near(c, 0xff, 0x7f, 0x0e)) orange++;
            }
        Assert.True(blue > 200, $"{blue} blue pixels");
        Assert.True(orange > 200, $"{orange} orange pixels");
    }

    private static bool Near(SkiaSharp.SKColor c, int r, int g, int b) => Math.Abs(c.Red - r) < 24 && Math.Abs(c.Green - g) < 24 && Math.Abs(c.Blue - b) < 24;

    [Fact]
    public void PanelsWrapAfterMaxColumns()
    {
        var plot = new PlotLogger { PanelWidth = 300, PanelHeight = 200, MaxColumns = 3 };
        plot.Start(_temp.Path, FixedHyperParameters.Sample());
        LogThreeEpochs(plot, "lr-Adam", "grad_norm");
        plot.Dispose();
        Assert.Equal((3 * 300, 2 * 200), PngSize(File.ReadAllBytes(plot.ImagePath!)));   // acc, grad_norm, loss / lr-Adam
    }

    [Fact]
    public void NothingIsWrittenWhenNoMetricWasLogged()
    {
        var plot = new PlotLogger();
        plot.Start(_temp.Path, FixedHyperParameters.Sample());
        plot.LogMetrics(new Dictionary<string, double> { ["loss_step"] = 1, ["epoch"] = 0, ["bad"] = double.NaN }, 1, 0);
        plot.Finish();
        Assert.Null(plot.ImagePath);
        Assert.Empty(Directory.GetFiles(_temp.Path));
    }

    [Fact]
    public void BadSizesAreRefusedAtStart()
    {
        Assert.Contains("PanelWidth", Assert.Throws<LightningException>(() => new PlotLogger { PanelWidth = 10 }.Start(_temp.Path, FixedHyperParameters.Sample())).Message);
        Assert.Contains("MaxColumns", Assert.Throws<LightningException>(() => new PlotLogger { MaxColumns = 0 }.Start(_temp.Path, FixedHyperParameters.Sample())).Message);
        Assert.Contains("before Start", Assert.Throws<LightningException>(() => new PlotLogger().LogMetrics(new Dictionary<string, double>(), 0, 0)).Message);
    }

    [Fact]
    public void SeriesAreGroupedByStemWithTrainingFirst()
    {
        var names = new[] { "val_loss", "loss", "val_acc", "train_acc", "lr-Adam", "test_acc", "val/f1", "train/f1", "val_" };
        var panels = MetricPanels.Group(names);
        Assert.Equal(new[] { "acc", "f1", "loss", "lr-Adam", "val_" }, panels.Select(p => p.Stem));
        Assert.Equal(new[] { "train_acc", "val_acc", "test_acc" }, panels[0].Series);
        Assert.Equal(new[] { "train/f1", "val/f1" }, panels[1].Series);
        Assert.Equal(new[] { "loss", "val_loss" }, panels[2].Series);
    }

    [Theory]
    [InlineData("loss", true)]
    [InlineData("val_acc", true)]
    [InlineData("loss_step", false)]
    [InlineData("loss_epoch", false)]
    [InlineData("epoch", false)]
    [InlineData("step", false)]
    public void OnlyEpochLevelNamesAreDrawn(string name, bool drawn) => Assert.Equal(drawn, MetricPanels.IsDrawn(name));
}
