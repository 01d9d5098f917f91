using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Text.RegularExpressions;
using Lightning.Callbacks;
using Lightning.Checkpoints;
using Lightning.Loops;
using Lightning.Tests.Generation;
using Xunit;
using static TorchSharp.torch;

namespace Lightning.Tests.Training;

/// <summary>
/// The fit loop owns the fit's state (issue 15): one <see cref="FitProgress"/> record that the loop advances, callbacks
/// read through the trainer and checkpoints save; the trainer only reads it.
/// </summary>
[Collection("Training")]
public sealed class FitLoopTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("lightning-fitloop-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>Saves a checkpoint at chosen points and records the progress the trainer shows there.</summary>
    private sealed class ProgressProbe(string dir) : Callback
    {
        public List<(string Path, LoopPosition Seen)> Saved { get; } = new();

        private void Save(Trainer trainer, string name)
        {
            var path = Path.Combine(dir, name + ".ckpt");
            trainer.SaveCheckpoint(path);
            Saved.Add((path, trainer.Progress.Position));
            // The trainer's properties are views of the same record.
            Assert.Equal(trainer.Progress.Epoch, trainer.CurrentEpoch);
            Assert.Equal(trainer.Progress.GlobalStep, trainer.GlobalStep);
            Assert.Equal(trainer.Progress.Iteration, trainer.Iteration);
            Assert.Equal(trainer.Progress.EpochValidated, trainer.LastEpochValidated);
        }

        public override void OnTrainBatchEnd(Trainer trainer, ILightningModule module, Tensor? loss, long batchIdx)
        {
            if (batchIdx == 2) Save(trainer, $"e{trainer.CurrentEpoch}-b{batchIdx}");
        }

        public override void OnValidationEnd(Trainer trainer, ILightningModule module)
        {
            if (trainer.IsFitting) Save(trainer, $"e{trainer.CurrentEpoch}-val");
        }

        public override void OnTrainEpochEnd(Trainer trainer, ILightningModule module) => Save(trainer, $"e{trainer.CurrentEpoch}-end");
    }

    [Fact]
    public void ACheckpointSavesTheProgressRecordTheCallbacksSee()
    {
        var probe = new ProgressProbe(_dir);
        var trainer = new Trainer(new TrainerOptions
        {
            MaxEpochs = 2, Output = TextWriter.Null, Threads = 1, DefaultRootDir = _dir, EnableCheckpointing = false, Seed = 5,
            NumSanityValSteps = 0, Callbacks = new ICallback[] { probe }, Loggers = Array.Empty<Lightning.Loggers.ILightningLogger>(),
        });
        trainer.Fit(new TinyClassifier(), SyntheticData.Loader(4 * 16, 5, 16, shuffle: true), SyntheticData.Loader(32, 6, 16, shuffle: false));

        Assert.Equal(6, probe.Saved.Count);
        foreach (var (path, seen) in probe.Saved)
            Assert.Equal(seen, Checkpoint.Open(path, "Lightning.Tests.Training.TinyClassifier").ReadPosition(automaticOptimization: true));
        // Within epoch 1, after its third batch: 4 + 3 batches and steps in the fit, 3 in the epoch, the epoch not finished.
        Assert.Equal(new LoopPosition(1, 7, 3, false, false, 7), probe.Saved.Single(s => s.Path.EndsWith("e1-b2.ckpt", StringComparison.Ordinal)).Seen);
        // After epoch 0's validation the epoch's batches are done but its end is not; at its end both are.
        Assert.Equal(new LoopPosition(0, 4, 4, true, false, 4), probe.Saved.Single(s => s.Path.EndsWith("e0-val.ckpt", StringComparison.Ordinal)).Seen);
        Assert.Equal(new LoopPosition(0, 4, 4, true, false, 4), probe.Saved.Single(s => s.Path.EndsWith("e0-end.ckpt", StringComparison.Ordinal)).Seen);
        // After the fit the trainer still shows the last fit's record.
        Assert.Equal(new LoopPosition(1, 8, 8 - 4, true, true, 8), trainer.Progress.Position);
    }

    [Fact]
    public void TheTrainerOnlyReadsTheFitsState()
    {
        // No property of the fit's position can be set on the trainer (only ShouldStop, which Lightning's callbacks set).
        foreach (var name in new[] { nameof(Trainer.CurrentEpoch), nameof(Trainer.GlobalStep), nameof(Trainer.Iteration), nameof(Trainer.HasValidated),
                     nameof(Trainer.LastEpochValidated), nameof(Trainer.Optimizer), nameof(Trainer.CkptPath), nameof(Trainer.Progress) })
            Assert.True(typeof(Trainer).GetProperty(name)!.GetSetMethod(nonPublic: true) is null, $"Trainer.{name} has a setter");
        Assert.True(typeof(FitProgress).GetProperty(nameof(FitProgress.GlobalStep))!.GetSetMethod(nonPublic: false) is null);

        // And no loop writes to a trainer: the loops' sources assign nothing through a Trainer reference.
        var loops = Path.Combine(Path.GetDirectoryName(GeneratorHarness.ProjectDirectory())!, "Lightning.Runtime", "Loops");
        foreach (var file in Directory.EnumerateFiles(loops, "*.cs"))
        {
            var text = File.ReadAllText(file);
            var writes = Regex.Matches(text, @"\b_?trainer\.\w+\s*(=[^=>]|\+\+|--|\+=|-=)", RegexOptions.IgnoreCase).Select(m => m.Value).ToList();
            Assert.True(writes.Count == 0, $"{Path.GetFileName(file)} writes to the trainer: {string.Join(", ", writes)}");
        }
    }

    /// <summary>Throws at the start of the batch that would take optimizer step <c>Step + 1</c>.</summary>
    private sealed class FailAtStep(long step) : Callback
    {
        public override void OnTrainBatchStart(Trainer trainer, ILightningModule module, long batchIdx)
        {
            if (trainer.GlobalStep == step) throw new InvalidOperationException("the data went away");
        }
    }

    private TrainerOptions Options(string checkpoints, params ICallback[] callbacks) => new()
    {
        MaxEpochs = 2, Output = TextWriter.Null, Threads = 1, DefaultRootDir = _dir, Seed = 5, NumSanityValSteps = 0,
        Loggers = Array.Empty<Lightning.Loggers.ILightningLogger>(),
        Callbacks = callbacks.Prepend(new ModelCheckpoint { DirPath = checkpoints }).ToArray(),
    };

    private static byte[][] Weights(TinyClassifier model) =>
        model.parameters().Select(p => { using var c = p.detach().contiguous(); return c.bytes.ToArray(); }).ToArray();

    [Fact]
    public void AFailingStepLeavesACheckpointOfTheLastCompletedBatchThatResumesExactly()
    {
        // Lightning's OnExceptionCheckpoint (callbacks/on_exception_checkpoint.py) saves when an exception ends the fit; here the
        // trainer does it for every fit, as the last checkpoint of its ModelCheckpoint, so ckpt_path "last" finds it.
        var straight = new TinyClassifier();
        new Trainer(Options(Path.Combine(_dir, "straight"))).Fit(straight, SyntheticData.Loader(4 * 16, 5, 16, shuffle: true));

        var checkpoints = Path.Combine(_dir, "failed");
        var failing = new TinyClassifier();
        var output = new StringWriter();
        var error = Assert.Throws<InvalidOperationException>(() =>
            new Trainer(Options(checkpoints, new FailAtStep(5)) with { Output = output }).Fit(failing, SyntheticData.Loader(4 * 16, 5, 16, shuffle: true)));
        Assert.Equal("the data went away", error.Message);   // the step's own exception, not a wrapper
        var last = Path.Combine(checkpoints, "last.ckpt");
        Assert.Contains($"saved {last}", output.ToString(), StringComparison.Ordinal);
        // Epoch 1, after its first batch: the state after the last completed batch.
        Assert.Equal(new LoopPosition(1, 5, 1, false, false, 5),
            Checkpoint.Open(last, "Lightning.Tests.Training.TinyClassifier").ReadPosition(automaticOptimization: true));

        var resumed = new TinyClassifier();
        var trainer = new Trainer(Options(checkpoints));
        trainer.Fit(resumed, SyntheticData.Loader(4 * 16, 5, 16, shuffle: true), ckptPath: "last");
        Assert.Equal(last, trainer.CkptPath);
        Assert.Equal(8, trainer.GlobalStep);
        Assert.Equal(Weights(straight), Weights(resumed));
    }

    [Fact]
    public void AFitThatFailsBeforeItsFirstBatchWritesNoCheckpoint()
    {
        var checkpoints = Path.Combine(_dir, "early");
        Assert.Throws<InvalidOperationException>(() =>
            new Trainer(Options(checkpoints, new FailAtStep(0))).Fit(new TinyClassifier(), SyntheticData.Loader(4 * 16, 5, 16, shuffle: true)));
        Assert.False(Directory.Exists(checkpoints) && Directory.EnumerateFiles(checkpoints, "*.ckpt").Any());
    }
}
