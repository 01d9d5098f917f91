using System;
using System.IO;
using System.Linq;
using Lightning.Callbacks;
using Lightning.Tests.Training;
using Xunit;

namespace Lightning.Tests.Callbacks;

/// <summary>
/// ModelCheckpoint, EarlyStopping and the fit loop against PyTorch Lightning's own tests: each case cites the Lightning
/// test (tests/tests_pytorch/...) its expected values come from.
/// </summary>
[Collection("Training")]
public sealed class LightningSemanticsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("lightning-semantics-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private TrainerOptions Options(int epochs, params Callback[] callbacks) => new()
    {
        MaxEpochs = epochs, NumSanityValSteps = 0, Output = TextWriter.Null, Threads = 1, Callbacks = callbacks,
        DefaultRootDir = _dir, EnableProgressBar = false, EnableModelSummary = false,
        Loggers = Array.Empty<Lightning.Loggers.ILightningLogger>(),
    };

    private static Lightning.Data.TensorDataLoader Train(int samples = 64) => SyntheticData.Loader(samples, 1, 32, true);

    private static Lightning.Data.TensorDataLoader Val() => SyntheticData.Loader(32, 2, 32, false);

    private string[] Files(string dir) => Directory.GetFiles(dir).Select(Path.GetFileName).OrderBy(f => f, StringComparer.Ordinal).ToArray()!;

    [Fact]
    public void WithValidationEverySecondEpochTopKSavesOnlyAfterAValidation()
    {
        // checkpointing/test_model_checkpoint.py::test_check_val_every_n_epochs_top_k_integration:
        // monitor="epoch", save_top_k=-1, filename="{epoch}", max_epochs=5, check_val_every_n_epoch=2 -> epoch=1, epoch=3.
        var dir = Path.Combine(_dir, "ckpt");
        var mc = new ModelCheckpoint { DirPath = dir, Monitor = "epoch", Mode = MonitorMode.Max, SaveTopK = -1, Filename = "{epoch}" };
        new Trainer(Options(5, mc) with { CheckValEveryNEpoch = 2, LimitTrainBatches = BatchLimit.Batches(1) })
            .Fit(new ScriptedScore(1), Train(), Val());
        Assert.Equal(new[] { "epoch=1.ckpt", "epoch=3.ckpt" }, Files(dir));
    }

    [Fact]
    public void EarlyStoppingChecksOnlyAfterValidationWhenItIsNotEveryEpoch()
    {
        // callbacks/test_early_stopping.py::test_check_on_train_epoch_end_smart_handling ("check_val_every_n_epoch": 2,
        // max_epochs 5): two checks, the second stops; current_epoch == 2 checks * 2 epochs. No error in epochs without one.
        var es = new EarlyStopping { Monitor = "val_score", Patience = 0 };
        var trainer = new Trainer(Options(5, es) with { CheckValEveryNEpoch = 2 });
        trainer.Fit(new ScriptedScore(1, 1, 1), Train(), Val());
        Assert.Equal(4, trainer.History.Count);
        Assert.Equal(3, es.StoppedEpoch);
    }

    [Theory]
    [InlineData(MonitorMode.Min, new[] { double.NaN, 8, 7, 5 }, 5.0, double.PositiveInfinity)]
    [InlineData(MonitorMode.Max, new[] { double.NaN, 5, 7, 8 }, 8.0, double.NegativeInfinity)]
    public void ANaNScoreIsSavedAsTheWorstValue(MonitorMode mode, double[] script, double best, double nanScore)
    {
        // checkpointing/test_model_checkpoint.py::test_checkpointing_with_nan_as_first: every epoch saves (NaN included),
        // and the best score is the best number; _update_best_and_save replaces NaN with +inf (min) or -inf (max).
        var dir = Path.Combine(_dir, "nan");
        var mc = new ModelCheckpoint { DirPath = dir, Monitor = "val_score", Mode = mode, SaveTopK = -1, Filename = "{epoch}" };
        new Trainer(Options(script.Length, mc)).Fit(new ScriptedScore(script), Train(), Val());
        Assert.Equal(script.Length, Files(dir).Length);
        Assert.Equal(best, mc.BestModelScore);
        Assert.Equal(nanScore, mc.BestKModels.Single(b => b.Path.EndsWith("epoch=0.ckpt", StringComparison.Ordinal)).Score);
    }

    [Fact]
    public void ASecondFitIntoTheSameFolderWritesLastV1()
    {
        // checkpointing/test_model_checkpoint.py::test_save_last_versioning: two fits, save_top_k=0, save_last=True,
        // no validation -> {"last.ckpt", "last-v1.ckpt"}.
        var dir = Path.Combine(_dir, "last");
        for (int i = 0; i < 2; i++)
        {
            var mc = new ModelCheckpoint { DirPath = dir, SaveTopK = 0, SaveLast = true };
            new Trainer(Options(2, mc) with { LimitTrainBatches = BatchLimit.Batches(1) }).Fit(new TinyClassifier(), Train());
        }
        Assert.Equal(new[] { "last-v1.ckpt", "last.ckpt" }, Files(dir));
    }

    [Fact]
    public void LastIsWrittenAtTheEndEvenWhenNoTopKSaveWasDue()
    {
        // ModelCheckpoint.on_train_end: save_last holds when every_n_epochs never came due (here 5 in a 3-epoch fit).
        var dir = Path.Combine(_dir, "late");
        var mc = new ModelCheckpoint { DirPath = dir, SaveLast = true, EveryNEpochs = 5 };
        new Trainer(Options(3, mc)).Fit(new TinyClassifier(), Train());
        Assert.Equal(new[] { "last.ckpt" }, Files(dir));
    }

    [Fact]
    public void StepAndEpochTriggersExcludeEachOther()
    {
        // ModelCheckpoint.__validate_init_configuration: every_n_train_steps and every_n_epochs "should be mutually exclusive".
        var mc = new ModelCheckpoint { DirPath = _dir, EveryNEpochs = 1, EveryNTrainSteps = 2 };
        var e = Assert.Throws<LightningException>(() => new Trainer(Options(1, mc)).Fit(new TinyClassifier(), Train()));
        Assert.Contains("exclude each other", e.Message);
    }

    [Theory]
    // callbacks/test_early_stopping.py::test_min_epochs_min_steps_global_step: (limit_train_batches, min_epochs,
    // min_steps, stop_step); early stopping is asked at every check, the fit runs max(ceil(min_steps / limit), min_epochs)
    // epochs and stops at stop_step.
    [InlineData(3, 0, 10, 10)]
    [InlineData(5, 0, 10, 10)]
    [InlineData(3, 2, 0, 6)]
    [InlineData(5, 2, 0, 10)]
    [InlineData(3, 1, 10, 10)]
    [InlineData(5, 1, 10, 10)]
    [InlineData(3, 3, 10, 10)]
    [InlineData(5, 3, 10, 15)]
    public void MinEpochsAndMinStepsHoldOffARequestedStop(int limitTrainBatches, int minEpochs, int minSteps, int stopStep)
    {
        // A divergence threshold below any loss asks to stop at every check (Lightning mocks _evaluate_stopping_criteria).
        var es = new EarlyStopping { Monitor = "loss", DivergenceThreshold = -1 };
        var trainer = new Trainer(Options(100, es) with
        {
            LimitTrainBatches = BatchLimit.Batches(limitTrainBatches),
            MinEpochs = minEpochs == 0 ? null : minEpochs,
            MinSteps = minSteps == 0 ? null : minSteps,
            EnableCheckpointing = false,
        });
        trainer.Fit(new TinyClassifier(), Train(320));
        int expectedEpochs = Math.Max((int)Math.Ceiling(minSteps / (double)limitTrainBatches), minEpochs);
        Assert.True(trainer.ShouldStop);
        Assert.Equal(expectedEpochs, trainer.History.Count);
        Assert.Equal(stopStep, trainer.GlobalStep);
    }

    [Fact]
    public void ModelCheckpointsRunAfterTheOtherCallbacksAndStateKeysAreUnique()
    {
        // Lightning's CallbackConnector._reorder_callbacks (checkpoint callbacks last, order kept) and
        // _validate_callbacks_list (a state key must be unique among all callbacks).
        var dir = Path.Combine(_dir, "order");
        var mc = new ModelCheckpoint { DirPath = dir, SaveLast = true };
        var es = new EarlyStopping { Monitor = "loss", Patience = 5 };
        new Trainer(Options(1, mc, es)).Fit(new TinyClassifier(), Train());   // listed first, the checkpoint still runs last
        using var states = Lightning.Checkpoints.Checkpoint.Open(Path.Combine(dir, "last.ckpt"), "Lightning.Tests.Training.TinyClassifier").JsonMetadata("callbacks")!;
        var saved = states.RootElement.GetProperty("EarlyStopping{monitor=loss,mode=min}");
        Assert.Equal(System.Text.Json.JsonValueKind.Number, saved.GetProperty("best_score").ValueKind);   // epoch 0's check is in the file
        Assert.Equal(es.BestScore, saved.GetProperty("best_score").GetDouble());

        var e = Assert.Throws<LightningException>(() => new Trainer(Options(1,
            new EarlyStopping { Monitor = "loss" }, new EarlyStopping { Monitor = "loss", Patience = 9 })).Fit(new TinyClassifier(), Train()));
        Assert.Contains("Two callbacks have the state key 'EarlyStopping{monitor=loss,mode=min}'", e.Message);
    }

    [Fact]
    public void AnEpochSchedulerStepsAtTheEpochsLastBatchSoEachEpochsCheckpointHoldsItsStep()
    {
        // Lightning's TrainingEpochLoop.advance (src/lightning/pytorch/loops/training_epoch_loop.py): "update epoch-interval
        // ones only when we are at the end of training epoch", before the batch's callbacks, the validation and the epoch's
        // checkpoint; so the checkpoint of epoch e holds e + 1 scheduler steps (issue 15: [3, 2, 1] for three epochs).
        var dir = Path.Combine(_dir, "sched");
        var mc = new ModelCheckpoint { DirPath = dir, SaveTopK = -1, Filename = "{epoch}" };
        var trainer = new Trainer(Options(3, mc));
        trainer.Fit(new TinyClassifier { LrDecay = 0.5 }, Train(), Val());
        var steps = Enumerable.Range(0, 3).Reverse().Select(e =>
        {
            using var scheduler = Lightning.Checkpoints.Checkpoint.Open(Path.Combine(dir, $"epoch={e}.ckpt"), "Lightning.Tests.Training.TinyClassifier").JsonMetadata("scheduler")!;
            return scheduler.RootElement.GetProperty("steps").GetInt32();
        });
        Assert.Equal(new[] { 3, 2, 1 }, steps);
        Assert.Equal(0.05 * 0.125, trainer.Optimizer!.ParamGroups.Single().LearningRate, 12);
    }
}
