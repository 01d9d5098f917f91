using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Lightning.Callbacks;
using Lightning.Checkpoints;
using Lightning.Tests.Training;
using Xunit;

namespace Lightning.Tests.Checkpoints;

/// <summary>Fit(ckptPath): a resumed fit continues exactly where the checkpoint left off.</summary>
[Collection("Training")]
public class ResumeTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("lightning-resume-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static TrainerOptions Options(int epochs, params Callback[] callbacks) =>
        new() { MaxEpochs = epochs, Seed = 21, Output = TextWriter.Null, Threads = 1, Callbacks = callbacks };

    private static TinyClassifier NewModel(long seed)
    {
        Seed.Everything(seed);
        return new TinyClassifier { LrDecay = 0.5 };   // Adam moments and a scheduler must both be restored
    }

    private static Lightning.Data.TensorDataLoader Train() => SyntheticData.Loader(192, 5, 32, shuffle: true);

    private static Dictionary<string, float[]> Weights(TinyClassifier model) =>
        model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.data<float>().ToArray());

    [Fact]
    public void ResumingAfterTwoEpochsGivesBitwiseTheWeightsOfFourUninterruptedEpochs()
    {
        var uninterrupted = NewModel(21);
        var full = new Trainer(Options(4));
        full.Fit(uninterrupted, Train(), SyntheticData.Loader(64, 6, 32, false));

        var first = NewModel(21);
        var part = new Trainer(Options(2));
        part.Fit(first, Train(), SyntheticData.Loader(64, 6, 32, false));
        var path = Path.Combine(_dir, "epoch1.ckpt");
        part.SaveCheckpoint(path);

        var resumed = NewModel(99);   // different initial weights: everything must come from the checkpoint
        var rest = new Trainer(Options(4));
        rest.Fit(resumed, Train(), SyntheticData.Loader(64, 6, 32, false), ckptPath: path);

        Assert.Equal(full.GlobalStep, rest.GlobalStep);
        Assert.Equal(2, rest.History.Count);
        var expected = Weights(uninterrupted);
        foreach (var (key, values) in Weights(resumed)) Assert.Equal(expected[key], values);
        Assert.Equal(full.History[^1]["val_loss"], rest.History[^1]["val_loss"]);
    }

    [Fact]
    public void LastResolvesToTheModelCheckpointsLastFile()
    {
        var checkpoint = new ModelCheckpoint { DirPath = _dir, SaveTopK = 0, SaveLast = true };
        var first = new Trainer(Options(1, checkpoint));
        first.Fit(NewModel(1), Train());
        var second = new Trainer(Options(2, checkpoint));
        second.Fit(NewModel(2), Train(), ckptPath: "last");
        Assert.Single(second.History);
        Assert.Equal(2 * 6, second.GlobalStep);
    }

    [Fact]
    public void LastWithoutAModelCheckpointIsAClearError()
    {
        var e = Assert.Throws<LightningException>(() => new Trainer(Options(1)).Fit(NewModel(1), Train(), ckptPath: "last"));
        Assert.Contains("needs a ModelCheckpoint", e.Message);
    }

    [Fact]
    public void AWeightsOnlyCheckpointCannotResume()
    {
        var model = NewModel(1);
        ((ILightningModule)model).RegisterComponentsOnce();
        var path = Path.Combine(_dir, "weights.ckpt");
        Checkpoint.Save(path, model);
        var e = Assert.Throws<CheckpointException>(() => new Trainer(Options(1)).Fit(NewModel(2), Train(), ckptPath: path));
        Assert.Contains("holds weights only", e.Message);
        Assert.Contains(path, e.Message);
    }
}
