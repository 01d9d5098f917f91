using System;
using System.IO;
using Lightning.Diagnostics;
using Lightning.Tests.Training;
using Xunit;

namespace Lightning.Tests.Performance;

/// <summary>
/// No host sync per step unless a log asks for it: the trainer's reads of tensor values, counted by
/// <see cref="HostSync"/>, do not grow with the number of training steps.
/// </summary>
[Collection("Training")]
public sealed class HostSyncTests
{
    private static long SyncsOfAFit(int batches, TrainerOptions options)
    {
        var trainer = new Trainer(options with { MaxEpochs = 1, Threads = 1, Seed = 1, NumSanityValSteps = 0, EnableCheckpointing = false });
        var model = new TinyClassifier();
        var data = SyntheticData.Loader(batches * 8, 1, 8, true);
        HostSync.Reset();
        trainer.Fit(model, data);
        return HostSync.Count;
    }

    private static TrainerOptions Quiet => new()
    {
        Output = TextWriter.Null, EnableProgressBar = false, EnableModelSummary = false, Loggers = Array.Empty<Lightning.Loggers.ILightningLogger>(),
    };

    [Fact]
    public void WithoutLoggersOrProgressBarTheSyncsDoNotDependOnTheSteps()
    {
        long few = SyncsOfAFit(4, Quiet), many = SyncsOfAFit(64, Quiet);
        Assert.Equal(few, many);
        // TinyClassifier logs loss and acc per step and per epoch: at the epoch's end, each metric's epoch mean and its
        // last step value are read once.
        Assert.Equal(4, many);
    }

    [Fact]
    public void LoggersReadEveryLogEveryNStepsNotEveryStep()
    {
        var options = Quiet with { Loggers = new Lightning.Loggers.ILightningLogger[] { new CountingLogger() }, LogEveryNSteps = 16 };
        long syncs = SyncsOfAFit(64, options);
        // 64 steps, step values every 16 steps: 4 reads of 2 metrics; then the epoch means (2 reads).
        Assert.Equal(4 * 2 + 2, syncs);
    }

    [Fact]
    public void TheProgressBarReadsWhenItRedrawsNotPerStep()
    {
        var options = Quiet with { EnableProgressBar = true };
        long few = SyncsOfAFit(4, options), many = SyncsOfAFit(64, options);
        Assert.Equal(few, many);
    }

    private sealed class CountingLogger : Lightning.Loggers.ILightningLogger
    {
        public string Name => "count";
        public void Start(string logDirectory, IHyperParameters hparams) { }
        public void LogMetrics(System.Collections.Generic.IReadOnlyDictionary<string, double> metrics, long step, int epoch) { }
        public void Finish() { }
        public void Dispose() { }
    }
}
