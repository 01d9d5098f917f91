using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Lightning.Callbacks;
using Lightning.Data;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Lightning.Tests.Training;

/// <summary>Records every hook call, as "Name" or "Name:batchIdx".</summary>
internal sealed class RecordingCallback : Callback
{
    public List<string> Calls { get; } = new();
    public override void OnFitStart(Trainer t, ILightningModule m) => Calls.Add("FitStart");
    public override void OnFitEnd(Trainer t, ILightningModule m) => Calls.Add("FitEnd");
    public override void OnSanityCheckStart(Trainer t, ILightningModule m) => Calls.Add("SanityCheckStart");
    public override void OnSanityCheckEnd(Trainer t, ILightningModule m) => Calls.Add("SanityCheckEnd");
    public override void OnTrainStart(Trainer t, ILightningModule m) => Calls.Add("TrainStart");
    public override void OnTrainEnd(Trainer t, ILightningModule m) => Calls.Add("TrainEnd");
    public override void OnTrainEpochStart(Trainer t, ILightningModule m) => Calls.Add("TrainEpochStart");
    public override void OnTrainEpochEnd(Trainer t, ILightningModule m) => Calls.Add("TrainEpochEnd");
    public override void OnTrainBatchStart(Trainer t, ILightningModule m, long i) => Calls.Add("TrainBatchStart:" + i);
    public override void OnTrainBatchEnd(Trainer t, ILightningModule m, Tensor? loss, long i) => Calls.Add("TrainBatchEnd:" + i);
    public override void OnBeforeBackward(Trainer t, ILightningModule m, Tensor loss) => Calls.Add("BeforeBackward");
    public override void OnAfterBackward(Trainer t, ILightningModule m) => Calls.Add("AfterBackward");
    public override void OnBeforeOptimizerStep(Trainer t, ILightningModule m, optim.Optimizer o) => Calls.Add("BeforeOptimizerStep");
    public override void OnBeforeZeroGrad(Trainer t, ILightningModule m, optim.Optimizer o) => Calls.Add("BeforeZeroGrad");
    public override void OnValidationStart(Trainer t, ILightningModule m) => Calls.Add("ValidationStart");
    public override void OnValidationEnd(Trainer t, ILightningModule m) => Calls.Add($"ValidationEnd@{t.CurrentEpoch}:{t.Iteration}");
    public override void OnValidationBatchStart(Trainer t, ILightningModule m, long i) => Calls.Add("ValidationBatchStart:" + i);
    public override void OnValidationBatchEnd(Trainer t, ILightningModule m, long i) => Calls.Add("ValidationBatchEnd:" + i);
    public override void OnTestStart(Trainer t, ILightningModule m) => Calls.Add("TestStart");
    public override void OnTestEnd(Trainer t, ILightningModule m) => Calls.Add("TestEnd");

    public IEnumerable<string> ValidationEnds => Calls.Where(c => c.StartsWith("ValidationEnd@", StringComparison.Ordinal));
}

/// <summary>The trainer options and built-in callbacks of issue 5, with exact expectations.</summary>
[Collection("Training")]
public sealed class TrainerFeatureTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("lightning-features-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private TrainerOptions Quiet(TrainerOptions options) => options with
    {
        Output = TextWriter.Null, Threads = 1, DefaultRootDir = _dir, EnableCheckpointing = false, Seed = options.Seed ?? 3,
    };

    private static TensorDataLoader Train(int batches = 6) => SyntheticData.Loader(batches * 16, 5, 16, shuffle: true);

    private static TensorDataLoader Val() => SyntheticData.Loader(32, 6, 16, shuffle: false);

    [Fact]
    public void HooksRunInLightningsOrder()
    {
        var recorder = new RecordingCallback();
        var trainer = new Trainer(Quiet(new TrainerOptions { MaxEpochs = 1, NumSanityValSteps = 1, Callbacks = new[] { recorder } }));
        trainer.Fit(new TinyClassifier(), Train(2), Val());
        string[] step = { "BeforeBackward", "AfterBackward", "BeforeOptimizerStep", "BeforeZeroGrad" };
        var expected = new List<string> { "FitStart", "SanityCheckStart", "ValidationBatchStart:0", "ValidationBatchEnd:0", "SanityCheckEnd", "TrainStart", "TrainEpochStart" };
        for (int i = 0; i < 2; i++)
        {
            expected.Add("TrainBatchStart:" + i);
            expected.AddRange(step);
            expected.Add("TrainBatchEnd:" + i);
        }
        expected.AddRange(new[] { "ValidationStart", "ValidationBatchStart:0", "ValidationBatchEnd:0", "ValidationBatchStart:1", "ValidationBatchEnd:1",
            "ValidationEnd@0:2", "TrainEpochEnd", "TrainEnd", "FitEnd" });
        Assert.Equal(expected, recorder.Calls);
    }

    [Fact]
    public void StandaloneTestRunsTestHooks()
    {
        var recorder = new RecordingCallback();
        var trainer = new Trainer(Quiet(new TrainerOptions { Callbacks = new[] { recorder } }));
        trainer.Test(new TinyClassifier(), Val());
        Assert.Equal(new[] { "TestStart", "TestEnd" }, recorder.Calls);
        Assert.True(trainer.CallbackMetrics.ContainsKey("test_acc"));
    }

    [Theory]
    [InlineData(0.5, "ValidationEnd@0:3,ValidationEnd@0:6,ValidationEnd@1:9,ValidationEnd@1:12")]
    [InlineData(2, "ValidationEnd@0:2,ValidationEnd@0:4,ValidationEnd@0:6,ValidationEnd@1:8,ValidationEnd@1:10,ValidationEnd@1:12")]
    [InlineData(4, "ValidationEnd@0:4,ValidationEnd@1:10")]
    public void ValCheckIntervalValidatesAtTheRightBatches(double interval, string expected)
    {
        var recorder = new RecordingCallback();
        BatchLimit limit = interval < 1 ? BatchLimit.Share(interval) : BatchLimit.Batches((long)interval);
        var trainer = new Trainer(Quiet(new TrainerOptions { MaxEpochs = 2, NumSanityValSteps = 0, ValCheckInterval = limit, Callbacks = new[] { recorder } }));
        var model = new TinyClassifier();
        trainer.Fit(model, Train(6), Val());
        Assert.Equal(expected, string.Join(",", recorder.ValidationEnds));
        Assert.Equal(2 * expected.Split(',').Length, model.ValidationSteps);   // 2 validation batches per run
        // The training epoch's metrics go on accumulating across a validation within the epoch.
        Assert.Equal(2, trainer.History.Count);
        Assert.True(trainer.History[0].ContainsKey("loss"));
    }

    [Fact]
    public void CheckValEveryNEpochSkipsOtherEpochs()
    {
        var recorder = new RecordingCallback();
        var trainer = new Trainer(Quiet(new TrainerOptions { MaxEpochs = 5, NumSanityValSteps = 0, CheckValEveryNEpoch = 2, Callbacks = new[] { recorder } }));
        trainer.Fit(new TinyClassifier(), Train(3), Val());
        Assert.Equal("ValidationEnd@1:6,ValidationEnd@3:12", string.Join(",", recorder.ValidationEnds));
        Assert.False(trainer.History[0].ContainsKey("val_loss"));
        Assert.True(trainer.History[1].ContainsKey("val_loss"));
    }

    [Fact]
    public void ValCheckIntervalAcrossEpochsWhenCheckValEveryNEpochIsNull()
    {
        var recorder = new RecordingCallback();
        var trainer = new Trainer(Quiet(new TrainerOptions
        {
            MaxEpochs = 2, NumSanityValSteps = 0, CheckValEveryNEpoch = null, ValCheckInterval = 4, Callbacks = new[] { recorder },
        }));
        trainer.Fit(new TinyClassifier(), Train(6), Val());
        Assert.Equal("ValidationEnd@0:4,ValidationEnd@1:8,ValidationEnd@1:12", string.Join(",", recorder.ValidationEnds));
    }

    [Fact]
    public void ValCheckIntervalLongerThanAnEpochIsAClearError()
    {
        var trainer = new Trainer(Quiet(new TrainerOptions { MaxEpochs = 1, ValCheckInterval = 10 }));
        var e = Assert.Throws<LightningException>(() => trainer.Fit(new TinyClassifier(), Train(6), Val()));
        Assert.Contains("ValCheckInterval is 10 batches, more than the 6", e.Message);
    }

    [Fact]
    public void StepSchedulerStepsEveryFrequencyOptimizerSteps()
    {
        var monitor = new LearningRateMonitor { LoggingInterval = Interval.Step };
        var trainer = new Trainer(Quiet(new TrainerOptions { MaxEpochs = 1, Callbacks = new[] { monitor } }));
        var model = new TinyClassifier { LrDecay = 0.5, LrInterval = Interval.Step, LrFrequency = 2 };
        trainer.Fit(model, Train(6));
        // Steps 0..5 use 0.05, 0.05, 0.025, 0.025, 0.0125, 0.0125; after step 6 the scheduler stepped a third time.
        Assert.Equal(new[] { 0.05, 0.05, 0.025, 0.025, 0.0125, 0.0125 }, monitor.Logged.Select(l => Math.Round(l.Value, 10)));
        Assert.All(monitor.Logged, l => Assert.Equal("lr-Adam", l.Name));
        Assert.Equal(0.00625, trainer.Optimizer!.ParamGroups.Single().LearningRate, 12);
    }

    [Theory]
    // Lightning's TrainingEpochLoop.update_lr_schedulers (src/lightning/pytorch/loops/training_epoch_loop.py): a "step"
    // scheduler steps when (batch_idx + 1) % frequency == 0, batch_idx counted within the epoch, and only on batches where
    // the optimizer steps (not while accumulating).
    [InlineData(3, 1, 2)]   // batches 0..2 of 2 epochs: batch 1 of each epoch -> 2 steps (a global count would give 3)
    [InlineData(4, 2, 4)]   // accumulating 2: the optimizer steps at batches 1 and 3 of each epoch, both count -> 4
    public void AStepSchedulersFrequencyCountsBatchesWithinTheEpoch(int batches, int accumulate, int schedulerSteps)
    {
        var trainer = new Trainer(Quiet(new TrainerOptions { MaxEpochs = 2, AccumulateGradBatches = accumulate }));
        trainer.Fit(new TinyClassifier { LrDecay = 0.5, LrInterval = Interval.Step, LrFrequency = 2 }, Train(batches));
        Assert.Equal(0.05 * Math.Pow(0.5, schedulerSteps), trainer.Optimizer!.ParamGroups.Single().LearningRate, 12);
    }

    [Fact]
    public void FastDevRunValidatesOnceAtTheEpochsEndWhateverTheValCheckInterval()
    {
        // Lightning's trainer/setup.py: fast_dev_run sets val_check_interval = 1.0 and check_val_every_n_epoch = 1.
        foreach (var (fastDevRun, interval) in new[] { (1, BatchLimit.Batches(2)), (4, BatchLimit.Batches(2)), (2, BatchLimit.Share(0.5)) })
        {
            var model = new TinyClassifier();
            var trainer = new Trainer(Quiet(new TrainerOptions { FastDevRun = fastDevRun, ValCheckInterval = interval, CheckValEveryNEpoch = 3 }));
            trainer.Fit(model, Train(6), SyntheticData.Loader(96, 6, 16, shuffle: false));   // 6 validation batches
            Assert.Equal(fastDevRun, model.TrainingSteps);
            Assert.Equal(fastDevRun, model.ValidationSteps);   // one validation run of fast_dev_run batches
        }
    }

    [Theory]
    // Lightning's EvaluationLoop (src/lightning/pytorch/loops/evaluation_loop.py): sanity batches are
    // min(num_sanity_val_steps, max_batches), max_batches after limit_val_batches; none when that is 0.
    [InlineData(4, 0.0, 0)]
    [InlineData(4, 1.0, 3)]   // 1.0 is the whole loader (3 batches)
    [InlineData(-1, 0.5, 1)]
    [InlineData(2, 1.0, 2)]
    public void SanityStepsAreCappedByTheValidationLimit(int sanitySteps, double limitVal, int expected)
    {
        var model = new TinyClassifier();
        var trainer = new Trainer(Quiet(new TrainerOptions { MaxEpochs = 0, NumSanityValSteps = sanitySteps, LimitValBatches = BatchLimit.Share(limitVal) }));
        trainer.Fit(model, Train(2), SyntheticData.Loader(48, 6, 16, shuffle: false));
        Assert.Equal(expected, model.ValidationSteps);
    }

    [Fact]
    public void EpochSchedulerWithFrequencyAndTheLearningRateMonitor()
    {
        var monitor = new LearningRateMonitor();
        var trainer = new Trainer(Quiet(new TrainerOptions { MaxEpochs = 4, Callbacks = new[] { monitor } }));
        trainer.Fit(new TinyClassifier { LrDecay = 0.5, LrFrequency = 2 }, Train(2));
        Assert.Equal(new[] { 0.05, 0.05, 0.025, 0.025 }, monitor.Logged.Select(l => Math.Round(l.Value, 10)));
        Assert.Equal(new long[] { 0, 2, 4, 6 }, monitor.Logged.Select(l => l.Step));
        Assert.Equal(0.025, trainer.CallbackMetrics["lr-Adam"], 12);
    }

    [Fact]
    public void ReduceLROnPlateauWatchesItsMonitoredMetric()
    {
        var monitor = new LearningRateMonitor();
        var trainer = new Trainer(Quiet(new TrainerOptions { MaxEpochs = 4, NumSanityValSteps = 0, Callbacks = new[] { monitor } }));
        trainer.Fit(new ScriptedScore(1, 2, 2, 2) { Plateau = true }, Train(1), Val());
        // 1 and 2 improve; the first 2 repeated is a plateau (patience 0): halve; again: halve.
        Assert.Equal(new[] { 0.01, 0.01, 0.01, 0.005 }, monitor.Logged.Select(l => Math.Round(l.Value, 10)));
        Assert.Equal(0.0025, trainer.Optimizer!.ParamGroups.Single().LearningRate, 12);
    }

    [Fact]
    public void ReduceLROnPlateauWithoutMonitorIsAClearError()
    {
        var trainer = new Trainer(Quiet(new TrainerOptions { MaxEpochs = 1 }));
        var e = Assert.Throws<LightningException>(() => trainer.Fit(new ScriptedScore(1) { PlateauWithoutMonitor = true }, Train(1), Val()));
        Assert.Contains("ReduceLROnPlateau scheduler without a Monitor", e.Message);
    }

    [Theory]
    [InlineData(TrainingPrecision.Float64, ScalarType.Float64)]
    [InlineData(TrainingPrecision.BFloat16, ScalarType.BFloat16)]
    public void PrecisionConvertsParametersAndInputs(TrainingPrecision precision, ScalarType expected)
    {
        var model = new TinyClassifier();
        var trainer = new Trainer(Quiet(new TrainerOptions { MaxEpochs = 2, Precision = precision }));
        trainer.Fit(model, Train(4), Val());
        Assert.All(model.parameters(), p => Assert.Equal(expected, p.dtype));
        Assert.True(double.IsFinite(trainer.CallbackMetrics["val_loss"]));
        Assert.Equal(ScalarType.Float32, get_default_dtype());   // restored after the fit
    }

    [Theory]
    [InlineData(TrainingPrecision.Float16Mixed, "is \"16-mixed\", which needs automatic mixed precision")]
    [InlineData(TrainingPrecision.Float16Mixed, "TorchSharp 0.107")]
    [InlineData(TrainingPrecision.BFloat16Mixed, "autocast")]
    [InlineData(TrainingPrecision.Float16, "bf16-true")]
    [InlineData((TrainingPrecision)99, "expected \"32-true\"")]
    public void UnsupportedPrecisionIsAClearError(TrainingPrecision precision, string expected)
    {
        var e = Assert.Throws<OptionException>(() => new Trainer(new TrainerOptions { Precision = precision }));
        Assert.Contains("TrainerOptions.Precision", e.Message);
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void OverfitBatchesTrainsAndValidatesOnTheSameFirstBatches()
    {
        var model = new TinyClassifier();
        var trainer = new Trainer(Quiet(new TrainerOptions { MaxEpochs = 3, NumSanityValSteps = 0, OverfitBatches = 2 }));
        trainer.Fit(model, Train(6), Val());
        Assert.Equal(3 * 2, model.TrainingSteps);
        Assert.Equal(3 * 2, model.ValidationSteps);
    }

    [Fact]
    public void MaxTimeStopsTraining()
    {
        var trainer = new Trainer(Quiet(new TrainerOptions { MaxEpochs = 100, MaxTime = TimeSpan.FromTicks(1) }));
        trainer.Fit(new TinyClassifier(), Train(6));
        Assert.Equal(1, trainer.GlobalStep);
    }

    [Theory]
    [InlineData(Interval.Step, 1)]    // Lightning's Timer(interval="step"): checked after every batch
    [InlineData(Interval.Epoch, 6)]   // interval="epoch": the epoch is finished first
    public void ATimersIntervalSaysWhenItChecks(Interval interval, long steps)
    {
        var timer = new Lightning.Callbacks.Timer { Duration = TimeSpan.FromTicks(1), Interval = interval };
        var trainer = new Trainer(Quiet(new TrainerOptions { MaxEpochs = 100, Callbacks = new[] { timer } }));
        trainer.Fit(new TinyClassifier(), Train(6));
        Assert.True(timer.Stopped);
        Assert.Equal(steps, trainer.GlobalStep);
    }

    [Fact]
    public void TerminateOnNanStopsAtTheFirstNonFiniteLoss()
    {
        var (x, y) = SyntheticData.Blobs(96, 4);
        x[40] = tensor(new float[] { float.NaN, 0, 0, 0 });   // in the third batch of 16
        var nan = new TerminateOnNan();
        var trainer = new Trainer(Quiet(new TrainerOptions { MaxEpochs = 3, Callbacks = new[] { nan } }));
        trainer.Fit(new TinyClassifier(), new TensorDataLoader(x, y, 16));
        Assert.Equal((0, 2L), nan.StoppedAt);
        Assert.Equal(3, trainer.GlobalStep);
    }

    [Fact]
    public void CheckpointingIsOnByDefaultInTheRunsVersionFolder()
    {
        var options = Quiet(new TrainerOptions { MaxEpochs = 2 }) with { EnableCheckpointing = true };
        new Trainer(options).Fit(new TinyClassifier(), Train(3));
        new Trainer(options).Fit(new TinyClassifier(), Train(3));
        Assert.Equal(new[] { "epoch=1-step=6.ckpt" }, Directory.GetFiles(Path.Combine(_dir, "lightning_logs", "version_0", "checkpoints")).Select(Path.GetFileName));
        Assert.True(File.Exists(Path.Combine(_dir, "lightning_logs", "version_1", "checkpoints", "epoch=1-step=6.ckpt")));

        var off = Directory.CreateTempSubdirectory("lightning-nockpt-").FullName;
        new Trainer(Quiet(new TrainerOptions { MaxEpochs = 1 }) with { DefaultRootDir = off, Loggers = Array.Empty<Lightning.Loggers.ILightningLogger>() })
            .Fit(new TinyClassifier(), Train(3));
        Assert.False(Directory.Exists(Path.Combine(off, "lightning_logs")));
        Directory.Delete(off, true);
    }

    [Fact]
    public void ModelSummaryIsPrintedOnceAtFitStart()
    {
        var output = new StringWriter();
        var trainer = new Trainer(new TrainerOptions { MaxEpochs = 1, Output = output, Threads = 1, EnableCheckpointing = false, EnableProgressBar = false, Callbacks = new[] { new ModelSummary { MaxDepth = 2 } } });
        trainer.Fit(new TinyClassifier(), Train(1));
        var text = output.ToString();
        Assert.Single(System.Text.RegularExpressions.Regex.Matches(text, "Total params"));
        Assert.Contains("fc1", text);
        Assert.Contains("hidden", text);   // the hyperparameter table
    }
}
