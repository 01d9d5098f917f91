using System;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Threading;
using Xunit;
using Lightning.Callbacks;
using Lightning.Data;
using Lightning.Reporting;

namespace Lightning.Tests.Runtime;

public sealed class ProgressBarTests
{
    private static MetricStore StoreWithLoss(double loss)
    {
        var store = new MetricStore("loss");
        store.BeginRun(Stage.Fit, training: true);
        store.BeginStep(4);
        store.Log(0, "loss", loss, progBar: true);
        return store;
    }

    [Fact]
    public void PlainOutputWritesOneLineForABurstEndingAtTheTotal()
    {
        var output = new StringWriter();
        var bar = new ProgressBar(output, interactive: false);
        Assert.False(bar.Interactive);
        var store = StoreWithLoss(0.5);

        bar.Start("Epoch 1/2", 3);
        bar.Update(1, store);
        bar.Update(2, store);
        Assert.Equal("", output.ToString());   // not due yet, and not done
        bar.Update(3, store);
        bar.Clear();

        var text = output.ToString();
        Assert.DoesNotContain('\r', text);
        var line = Assert.Single(text.Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("Epoch 1/2 3/3 [####################] 100% ", line);
        Assert.Contains("it/s", line);
        Assert.EndsWith(" loss=0.5", line);
    }

    [Fact]
    public void PlainOutputWithUnknownTotalStaysQuietInABurst()
    {
        var output = new StringWriter();
        var bar = new ProgressBar(output, interactive: false);
        var store = new MetricStore();
        store.BeginRun(Stage.Validate, training: false);
        bar.Start("Validation", null);
        for (int i = 1; i <= 5; i++) bar.Update(i, store);
        Assert.Equal("", output.ToString());
    }

    [Fact]
    public void InteractiveOutputRedrawsInPlace()
    {
        var output = new StringWriter();
        var bar = new ProgressBar(output, interactive: true);
        Assert.True(bar.Interactive);
        var store = StoreWithLoss(0.25);

        bar.Start("Epoch 1/1", 2);
        bar.Update(1, store);
        bar.Update(2, store);

        var text = output.ToString();
        Assert.StartsWith("\r", text);
        Assert.DoesNotContain('\n', text);
        var last = text.Split('\r').Last().TrimEnd();
        Assert.StartsWith("Epoch 1/1 2/2 [####################] 100% ", last);
        Assert.EndsWith(" loss=0.25", last);

        int before = text.Length;
        bar.Clear();
        var cleared = output.ToString()[before..];
        Assert.Equal("\r" + new string(' ', last.Length) + "\r", cleared);
    }

    [Fact]
    public void ClearOfAPlainBarWritesNothing()
    {
        var output = new StringWriter();
        var bar = new ProgressBar(output, interactive: false);
        bar.Start("x", 1);
        bar.Clear();
        Assert.Equal("", output.ToString());
    }

    [Fact]
    public void ClearBeforeAnyDrawWritesNothing()
    {
        var output = new StringWriter();
        var bar = new ProgressBar(output, interactive: true);
        bar.Start("x", 10);
        bar.Clear();
        Assert.Equal("", output.ToString());
    }

    [Fact]
    public void BarWithoutProgressBarMetricsEndsWithTheRate()
    {
        var output = new StringWriter();
        var bar = new ProgressBar(output, interactive: false);
        var store = new MetricStore();
        store.BeginRun(Stage.Test, training: false);
        bar.Start("Testing", 2);
        bar.Update(2, store);
        var line = output.ToString().TrimEnd();
        Assert.StartsWith("Testing 2/2 [####################] 100% ", line);
        Assert.EndsWith("it/s", line);
    }

    [Fact]
    public void EpochFormatHasFiveDecimals()
    {
        Assert.Equal("0.61840", MetricFormat.Epoch(0.6184));
        Assert.Equal("0.20638", MetricFormat.Epoch(0.206381));
        Assert.Equal("12.00000", MetricFormat.Epoch(12));
        Assert.Equal("NaN", MetricFormat.Epoch(double.NaN));
    }

    [Fact]
    public void ShortFormatHasAtMostFourDecimals()
    {
        Assert.Equal("0.1235", MetricFormat.Short(0.123456));
        Assert.Equal("0.5", MetricFormat.Short(0.5));
        Assert.Equal("3", MetricFormat.Short(3));
    }

    [Fact]
    public void FormatsIgnoreTheCurrentCulture()
    {
        var saved = Thread.CurrentThread.CurrentCulture;
        try
        {
            Thread.CurrentThread.CurrentCulture = CultureInfo.GetCultureInfo("de-DE");
            Assert.Equal("0.61840", MetricFormat.Epoch(0.6184));
            Assert.Equal("1234.5", MetricFormat.Short(1234.5));
        }
        finally { Thread.CurrentThread.CurrentCulture = saved; }
    }
}
