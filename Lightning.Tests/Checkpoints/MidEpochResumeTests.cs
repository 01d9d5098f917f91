using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Lightning.Callbacks;
using Lightning.Checkpoints;
using Lightning.Tests.Training;
using Xunit;

namespace Lightning.Tests.Checkpoints;

/// <summary>
/// Step checkpoints (EveryNTrainSteps) taken within an epoch resume exactly: dropout's random state, the loader's
/// position and shuffle, Adam's moments, a step-interval scheduler and the callbacks' states.
/// </summary>
[Collection("Training")]
public sealed class MidEpochResumeTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("lightning-midepoch-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private TrainerOptions Options(params ICallback[] callbacks) => new()
    {
        MaxEpochs = 3, Seed = 17, Output = TextWriter.Null, Threads = 1, NumSanityValSteps = 0, DefaultRootDir = _dir, Callbacks = callbacks,
    };

    private static TinyClassifier NewModel(long seed)
    {
        Seed.Everything(seed);
        return new TinyClassifier { Dropout = 0.3, LrDecay = 0.9, LrInterval = Interval.Step };
    }

    private static Lightning.Data.TensorDataLoader Train() => SyntheticData.Loader(6 * 16, 5, 16, shuffle: true);

    private static Lightning.Data.TensorDataLoader Val() => SyntheticData.Loader(32, 6, 16, shuffle: false);

    private static Dictionary<string, float[]> Weights(TinyClassifier model) =>
        model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.data<float>().ToArray());

    private ModelCheckpoint StepCheckpoints() =>
        new() { DirPath = _dir, Filename = "{step}", EveryNTrainSteps = 4, SaveTopK = -1 };

    [Theory]
    [InlineData(4)]    // epoch 0, after batch 4 of 6
    [InlineData(8)]    // epoch 1, after batch 2
    [InlineData(12)]   // the end of epoch 1 (its validation and scheduler step still to come)
    public void ResumingFromAStepCheckpointGivesBitwiseTheUninterruptedWeights(int step)
    {
        var uninterrupted = NewModel(17);
        var checkpoints = StepCheckpoints();
        var full = new Trainer(Options(checkpoints));
        full.Fit(uninterrupted, Train(), Val());
        Assert.Equal(new[] { 4, 8, 12, 16 }.Select(s => Path.Combine(_dir, $"step={s}.ckpt")), checkpoints.BestKModels.Select(b => b.Path).Reverse());

        var path = Path.Combine(_dir, $"step={step}.ckpt");
        var checkpoint = Checkpoint.Open(path, "Lightning.Tests.Training.TinyClassifier");
        Assert.Equal(step, checkpoint.GlobalStep);
        Assert.Equal((step - 1) / 6, checkpoint.Epoch);
        Assert.Equal(step % 6 == 0 ? 6 : step % 6, checkpoint.BatchInEpoch);

        var resumed = NewModel(99);
        var resumedCheckpoints = StepCheckpoints();
        var rest = new Trainer(Options(resumedCheckpoints));
        rest.Fit(resumed, Train(), Val(), ckptPath: path);

        Assert.Equal(full.GlobalStep, rest.GlobalStep);
        Assert.Equal(full.Iteration, rest.Iteration);
        var expected = Weights(uninterrupted);
        foreach (var (key, values) in Weights(resumed)) Assert.Equal(expected[key], values);
        Assert.Equal(full.Optimizer!.ParamGroups.Single().LearningRate, rest.Optimizer!.ParamGroups.Single().LearningRate);
        Assert.Equal(full.CallbackMetrics["val_loss"], rest.CallbackMetrics["val_loss"]);
        // The ModelCheckpoint's state came back with the file: it still lists the checkpoints written before.
        Assert.Contains(Path.Combine(_dir, "step=4.ckpt"), resumedCheckpoints.BestKModels.Select(b => b.Path));
    }

    [Fact]
    public void ModelCheckpointAndEarlyStoppingStatesAreSavedInTheCheckpoint()
    {
        var checkpoint = new ModelCheckpoint { DirPath = _dir, Monitor = "val_acc", Mode = MonitorMode.Max, SaveTopK = 2, SaveLast = true };
        var early = new EarlyStopping { Monitor = "val_loss", Patience = 5 };
        var trainer = new Trainer(Options(early, checkpoint));   // EarlyStopping checks before the checkpoint is written
        trainer.Fit(NewModel(3), Train(), Val());

        var restoredCheckpoint = new ModelCheckpoint { DirPath = _dir, Monitor = "val_acc", Mode = MonitorMode.Max, SaveTopK = 2, SaveLast = true };
        var restoredEarly = new EarlyStopping { Monitor = "val_loss", Patience = 5 };
        var again = new Trainer(Options(restoredEarly, restoredCheckpoint));
        again.Fit(NewModel(4), Train(), Val(), ckptPath: checkpoint.LastModelPath);   // nothing left to train: restores only

        Assert.Equal(checkpoint.BestKModels, restoredCheckpoint.BestKModels);
        Assert.Equal(early.BestScore, restoredEarly.BestScore);
        Assert.Equal(early.WaitCount, restoredEarly.WaitCount);
    }

    [Fact]
    public void CorruptedOptimizerStateIsACheckpointExceptionNeverACrash()
    {
        var trainer = new Trainer(Options());
        trainer.Fit(NewModel(5), Train(), Val());
        var good = Path.Combine(_dir, "good.ckpt");
        trainer.SaveCheckpoint(good);
        // Adam's state is now stored as named tensors; this test corrupts TorchSharp's blob, which older files and
        // optimizers without a named layout still use.
        LegacyCheckpoint.UseOptimizerBlob(good, trainer.Optimizer!);
        var bytes = File.ReadAllBytes(good);
        // Where the optimizer blob lies: the header gives its data offsets.
        long headerLength = BitConverter.ToInt64(bytes, 0);
        using var header = System.Text.Json.JsonDocument.Parse(System.Text.Encoding.UTF8.GetString(bytes, 8, (int)headerLength));
        var offsets = header.RootElement.GetProperty(Checkpoint.OptimizerState).GetProperty("data_offsets");
        long start = 8 + headerLength + offsets[0].GetInt64(), end = 8 + headerLength + offsets[1].GetInt64();

        var random = new Random(99);
        int refused = 0;
        for (int i = 0; i < 60; i++)
        {
            var corrupted = (byte[])bytes.Clone();
            // The first bytes of the blob hold the format's counts and lengths; flip mostly there.
            long at = start + (i % 2 == 0 ? random.Next(0, 64) : random.NextInt64(0, end - start));
            corrupted[at] ^= (byte)(1 << random.Next(8));
            var path = Path.Combine(_dir, $"bad{i}.ckpt");
            File.WriteAllBytes(path, corrupted);
            try
            {
                new Trainer(Options() with { MaxEpochs = 3 }).Fit(NewModel(6), Train(), Val(), ckptPath: path);
            }
            catch (CheckpointException e)
            {
                Assert.Contains(path, e.Message);
                refused++;
            }
        }
        Assert.True(refused > 0, "no corruption of the counts and lengths was detected");
    }
}
