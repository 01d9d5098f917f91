using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Lightning.Loggers;
using Xunit;

namespace Lightning.Tests.Loggers;

public sealed class TensorBoardLoggerTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void TheCrcMatchesTheCastagnoliCheckValue()
    {
        // CRC-32C("123456789") = 0xE3069283, before masking.
        uint crc = 0xE3069283u;
        Assert.Equal(((crc >> 15) | (crc << 17)) + 0xa282ead8u, TfRecordFile.MaskedCrc32C("123456789"u8));
    }

    [Fact]
    public void TheEventFileHoldsEachScalarWithItsStepAndTheHparamsText()
    {
        var tb = new TensorBoardLogger();
        tb.Start(_temp.Path, FixedHyperParameters.Sample());
        tb.LogMetrics(new Dictionary<string, double> { ["loss_step"] = 0.75 }, step: 50, epoch: 0);
        tb.LogMetrics(new Dictionary<string, double> { ["val_loss"] = 0.5, ["val_acc"] = 0.875 }, step: 100, epoch: 0);
        tb.LogMetrics(new Dictionary<string, double> { ["loss"] = 0.625, ["epoch"] = 0 }, step: 100, epoch: 0);
        tb.LogMetrics(new Dictionary<string, double> { ["loss_step"] = double.NaN }, step: 150, epoch: 1);
        tb.Finish();

        var file = Assert.Single(Directory.GetFiles(_temp.Path, "events.out.tfevents.*"));
        var events = TfRecordFile.ReadEvents(file);
        Assert.Equal("brain.Event:2", events[0].FileVersion);

        var scalars = events.Where(e => e.Summary is not null).SelectMany(e => e.Summary.Value.Select(v => (e.Step, v)))
            .Where(x => x.v.Tensor is null).Select(x => (x.v.Tag, x.Step, (double)x.v.SimpleValue)).ToList();
        Assert.Equal(new (string, long, double)[]
        {
            ("loss_step", 50, 0.75), ("val_loss", 100, 0.5), ("val_acc", 100, 0.875), ("loss", 100, 0.625), ("epoch", 100, 0),
            ("loss_step", 150, double.NaN),
        }, scalars);

        var text = Assert.Single(events.Where(e => e.Summary is not null).SelectMany(e => e.Summary.Value), v => v.Tensor is not null);
        Assert.Equal("hparams/text_summary", text.Tag);
        Assert.Equal("text", text.Metadata.PluginData.PluginName);
        Assert.Equal(
            "| name | value | description |\n|---|---|---|\n| learning_rate | 0.001 | step size |\n| hidden | 64 |  |\n| optimizer | adam | adam \\| sgd |\n",
            text.Tensor.StringVal.Single().ToStringUtf8());
    }

    [Fact]
    public void StepsPastTheInt32RangeAreClampedBecauseTorchSharpTakesInt32Steps()
    {
        var tb = new TensorBoardLogger();
        tb.Start(_temp.Path, FixedHyperParameters.Sample());
        tb.LogMetrics(new Dictionary<string, double> { ["loss"] = 1 }, step: 5_000_000_000, epoch: 3);
        var events = TfRecordFile.ReadEvents(Directory.GetFiles(_temp.Path, "events.out.tfevents.*").Single());
        Assert.Equal(int.MaxValue, events.Last().Step);
    }

    [Fact]
    public void LogMetricsOutsideARunIsAClearError()
    {
        var tb = new TensorBoardLogger();
        Assert.Contains("before Start", Assert.Throws<LightningException>(() => tb.LogMetrics(new Dictionary<string, double>(), 1, 0)).Message);
        tb.Start(_temp.Path, FixedHyperParameters.Sample());
        tb.Dispose();
        Assert.Contains("after Finish", Assert.Throws<LightningException>(() => tb.LogMetrics(new Dictionary<string, double>(), 1, 0)).Message);
    }
}
