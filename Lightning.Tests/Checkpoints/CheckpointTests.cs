using System;
using System.IO;
using System.Linq;
using Lightning.Checkpoints;
using Lightning.Tests.Training;
using Xunit;
using static TorchSharp.torch;

namespace Lightning.Tests.Checkpoints;

/// <summary>Saving a trained module and rebuilding it with the generated LoadFromCheckpoint.</summary>
[Collection("Training")]
public class CheckpointTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("lightning-ckpt-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private (TinyClassifier Model, Trainer Trainer, string Path) TrainAndSave()
    {
        Seed.Everything(3);
        var model = new TinyClassifier(hidden: 6) { LearningRate = 0.02, Optimizer = "sgd" };
        var trainer = new Trainer(new TrainerOptions { MaxEpochs = 2, Output = TextWriter.Null, Threads = 1 });
        trainer.Fit(model, SyntheticData.Loader(128, 1, 32, true));
        var path = Path.Combine(_dir, "tiny.ckpt");
        trainer.SaveCheckpoint(path);
        return (model, trainer, path);
    }

    [Fact]
    public void LoadFromCheckpointRestoresHyperparametersAndWeightsExactly()
    {
        var (model, trainer, path) = TrainAndSave();
        var loaded = TinyClassifier.LoadFromCheckpoint(path);

        Assert.Equal(model.Hparams, loaded.Hparams);
        var expected = model.state_dict();
        foreach (var (key, value) in loaded.state_dict())
            Assert.Equal(expected[key].data<float>().ToArray(), value.data<float>().ToArray());

        var checkpoint = Checkpoint.Open(path, "Lightning.Tests.Training.TinyClassifier");
        Assert.Equal(trainer.GlobalStep, checkpoint.GlobalStep);
        Assert.Equal(1, checkpoint.Epoch);

        // The reloaded model predicts exactly as the trained one.
        var test = SyntheticData.Loader(64, 9, 32, false);
        var quiet = new Trainer(new TrainerOptions { Output = TextWriter.Null });
        var a = quiet.Predict(model, test);
        var b = quiet.Predict(loaded, test);
        Assert.Equal(a.SelectMany(t => t.data<long>().ToArray()), b.SelectMany(t => t.data<long>().ToArray()));
    }

    [Fact]
    public void OverridesChangeHyperparametersThatDoNotShapeTheWeights()
    {
        var (_, _, path) = TrainAndSave();
        var loaded = TinyClassifier.LoadFromCheckpoint(path, h => h with { LearningRate = 0.5 });
        Assert.Equal(0.5, loaded.LearningRate);
        Assert.Equal(6, loaded.Hparams.Hidden);
    }

    [Fact]
    public void AnOverrideThatChangesShapesListsTheMisfittingTensors()
    {
        var (_, _, path) = TrainAndSave();
        var e = Assert.Throws<CheckpointException>(() => TinyClassifier.LoadFromCheckpoint(path, h => h with { Hidden = 7 }));
        Assert.Contains(path, e.Message);
        Assert.Contains("'fc1.weight' is Float32 [6, 4] in the file but Float32 [7, 4] in the module", e.Message);
    }

    [Fact]
    public void ACheckpointOfAnotherModuleTypeIsRejected()
    {
        var (_, _, path) = TrainAndSave();
        var e = Assert.Throws<CheckpointException>(() => ManualClassifier.LoadFromCheckpoint(path));
        Assert.Contains("it is a checkpoint of 'Lightning.Tests.Training.TinyClassifier', not of 'Lightning.Tests.Training.ManualClassifier'", e.Message);
    }

    [Fact]
    public void MissingAndUnexpectedTensorsAreListed()
    {
        var (model, _, path) = TrainAndSave();
        var file = SafetensorsFile.Read(path);
        var tensors = file.LoadAll().Where(t => t.Name != "model.fc2.bias").Append(("model.extra", zeros(2))).ToList();
        var broken = Path.Combine(_dir, "broken.ckpt");
        SafetensorsFile.Write(broken, tensors, file.Metadata.ToDictionary(kv => kv.Key, kv => kv.Value));
        var e = Assert.Throws<CheckpointException>(() => TinyClassifier.LoadFromCheckpoint(broken));
        Assert.Contains("missing tensors: fc2.bias", e.Message);
        Assert.Contains("unexpected tensors: extra", e.Message);
    }

    [Fact]
    public void APlainSafetensorsFileIsNotALightningCheckpoint()
    {
        var path = Path.Combine(_dir, "plain.safetensors");
        SafetensorsFile.Write(path, new[] { ("w", ones(2)) }, null);
        var e = Assert.Throws<CheckpointException>(() => TinyClassifier.LoadFromCheckpoint(path));
        Assert.Contains("not a Lightning checkpoint", e.Message);
    }

    [Fact]
    public void SaveCheckpointBeforeFitIsAClearError()
    {
        var e = Assert.Throws<LightningException>(() => new Trainer().SaveCheckpoint(Path.Combine(_dir, "x.ckpt")));
        Assert.Contains("call Fit first", e.Message);
    }
}
