using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using Lightning.Callbacks;
using Lightning.Tests.Training;
using Xunit;

namespace Lightning.Tests.Checkpoints;

/// <summary>ModelCheckpoint: Lightning's file names, exactly the best k files on disk, version suffixes, errors.</summary>
[Collection("Training")]
public class ModelCheckpointTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("lightning-mc-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private Trainer Fit(ModelCheckpoint checkpoint, int epochs, bool validation = true)
    {
        Seed.Everything(11);
        var trainer = new Trainer(new TrainerOptions { MaxEpochs = epochs, Output = TextWriter.Null, Threads = 1, Callbacks = new[] { checkpoint } });
        trainer.Fit(new TinyClassifier { LearningRate = 0.01 }, SyntheticData.Loader(160, 1, 32, true),
            validation ? SyntheticData.Loader(96, 2, 32, false) : null);
        return trainer;
    }

    private string[] Files() => Directory.GetFiles(_dir).Select(Path.GetFileName).OrderBy(f => f, StringComparer.Ordinal).ToArray()!;

    [Fact]
    public void TheSeedsCheckpointKeepsOneFileNamedAfterTheBestScore()
    {
        var checkpoint = new ModelCheckpoint { DirPath = _dir, Filename = "modelo-{val_acc:.5f}", Monitor = "val_acc", Mode = MonitorMode.Max, SaveTopK = 1 };
        var trainer = Fit(checkpoint, epochs: 3);

        double best = trainer.History.Max(h => h["val_acc"]);
        var expected = "modelo-val_acc=" + best.ToString("F5", CultureInfo.InvariantCulture) + ".ckpt";
        Assert.Equal(new[] { expected }, Files());
        Assert.Equal(Path.Combine(_dir, expected), checkpoint.BestModelPath);
        Assert.Equal(best, checkpoint.BestModelScore);

        var reloaded = TinyClassifier.LoadFromCheckpoint(checkpoint.BestModelPath!);
        Assert.Equal(0.01, reloaded.Hparams.LearningRate);
    }

    [Fact]
    public void TopKKeepsExactlyTheKBestEpochs()
    {
        var checkpoint = new ModelCheckpoint { DirPath = _dir, Filename = "{epoch}-{val_loss:.4f}", Monitor = "val_loss", Mode = MonitorMode.Min, SaveTopK = 2 };
        var trainer = Fit(checkpoint, epochs: 5);

        var bestEpochs = trainer.History.Select((h, epoch) => (epoch, loss: h["val_loss"])).OrderBy(x => x.loss).Take(2)
            .Select(x => $"epoch={x.epoch}-val_loss={x.loss.ToString("F4", CultureInfo.InvariantCulture)}.ckpt")
            .OrderBy(f => f, StringComparer.Ordinal);
        Assert.Equal(bestEpochs, Files());
        Assert.Equal(2, checkpoint.BestKModels.Count);
        Assert.True(checkpoint.BestKModels[0].Score <= checkpoint.BestKModels[1].Score);
    }

    [Fact]
    public void TopKMinusOneKeepsEveryEpochAndZeroKeepsOnlyLast()
    {
        var all = new ModelCheckpoint { DirPath = _dir, SaveTopK = -1 };
        Fit(all, epochs: 3);
        Assert.Equal(new[] { "epoch=0-step=5.ckpt", "epoch=1-step=10.ckpt", "epoch=2-step=15.ckpt" }, Files());

        foreach (var f in Directory.GetFiles(_dir)) File.Delete(f);
        var lastOnly = new ModelCheckpoint { DirPath = _dir, SaveTopK = 0, SaveLast = true };
        Fit(lastOnly, epochs: 2, validation: false);
        Assert.Equal(new[] { "last.ckpt" }, Files());
        Assert.Equal(Path.Combine(_dir, "last.ckpt"), lastOnly.LastModelPath);
        Assert.Null(lastOnly.BestModelPath);
    }

    [Fact]
    public void AClashGetsAVersionSuffixAndTheOtherFileIsKept()
    {
        var foreign = Path.Combine(_dir, "fixed.ckpt");
        File.WriteAllText(foreign, "not ours");
        var checkpoint = new ModelCheckpoint { DirPath = _dir, Filename = "fixed", SaveTopK = -1 };
        Fit(checkpoint, epochs: 2);
        // Lightning's _save_none_monitor_checkpoint passes best_model_path as the file that may be replaced, so a constant name
        // is overwritten by the next epoch's save (fixed-v1 twice); the foreign file is never touched.
        Assert.Equal(new[] { "fixed-v1.ckpt", "fixed.ckpt" }, Files());
        Assert.Equal("not ours", File.ReadAllText(foreign));
    }

    [Fact]
    public void AMonitoredMetricThatIsNeverLoggedIsAClearError()
    {
        // LTN0013 flags this typo at compile time; the test checks the run-time error behind it.
#pragma warning disable LTN0013
        var checkpoint = new ModelCheckpoint { DirPath = _dir, Monitor = "val_accuracy", Mode = MonitorMode.Max };
#pragma warning restore LTN0013
        var e = Assert.Throws<LightningException>(() => Fit(checkpoint, epochs: 1));
        Assert.Contains("Monitor = \"val_accuracy\"", e.Message);
        Assert.Contains("val_acc", e.Message);
    }

    [Theory]
    [InlineData("{epoch}-{val_loss:.2f}", "epoch=2-val_loss=0.02")]
    [InlineData("modelo-{val_acc:.5f}", "modelo-val_acc=0.99120")]
    [InlineData("{step}", "step=1200")]
    [InlineData("{val/loss:.1f}", "val/loss=0.0")]   // a '/' makes a subfolder, as Lightning's
    public void FilenameTemplatesExpandAsLightningDoes(string template, string expected)
    {
        var metrics = new Dictionary<string, double> { ["val_loss"] = 0.0213, ["val_acc"] = 0.9912, ["val/loss"] = 0.01 };
        Assert.Equal(expected, ModelCheckpoint.FormatName(template, 2, 1200, metrics));
    }

    [Fact]
    public void AnUnsupportedFormatIsAClearError()
    {
        var e = Assert.Throws<LightningException>(() => ModelCheckpoint.FormatName("{val_loss:x}", 0, 0, new Dictionary<string, double> { ["val_loss"] = 1 }));
        Assert.Contains("':x'", e.Message);
    }

    // Expected values from Lightning's tests/tests_pytorch/checkpointing/test_model_checkpoint.py
    // (test_model_checkpoint_format_checkpoint_name) and the doctest of ModelCheckpoint.format_checkpoint_name.
    [Theory]
    [InlineData("{epoch:03d}-{acc}", "epoch=3,acc=0.03", true, "epoch=003-acc=0.03")]
    [InlineData("{epoch:03d}-{epoch_test:03d}", "epoch=3,epoch_test=3", true, "epoch=003-epoch_test=003")]
    [InlineData("{epoch},{acc:.5f}", "epoch=3,acc=0.03", true, "epoch=3,acc=0.03000")]
    [InlineData("{epoch}_{val/loss:.5f}", "epoch=4,val/loss=0.03", true, "epoch=4_val/loss=0.03000")]
    [InlineData("epoch={epoch:03d}-val_acc={val/acc}", "epoch=3,val/acc=0.03", false, "epoch=003-val_acc=0.03")]
    [InlineData("mAP@0.50={val/mAP@0.50:.4f}", "val/mAP@0.50=0.2", false, "mAP@0.50=0.2000")]
    [InlineData("{epoch}", "epoch=0", true, "epoch=0")]
    [InlineData("{epoch:03d}", "epoch=5", true, "epoch=005")]
    [InlineData("{epoch}-{val_loss:.2f}", "epoch=2,val_loss=0.123456", true, "epoch=2-val_loss=0.12")]
    [InlineData("{epoch:d}", "epoch=2,val_loss=0.12", true, "epoch=2")]
    [InlineData("epoch={epoch}-validation_loss={val_loss:.2f}", "epoch=2,val_loss=0.123456", false, "epoch=2-validation_loss=0.12")]
    [InlineData("{missing:d}", "", true, "missing=0")]
    [InlineData("{step}", "step=0", true, "step=0")]
    [InlineData("{val_loss:.3e}", "val_loss=0.0123456", true, "val_loss=1.235e-02")]
    [InlineData("{val_loss}", "val_loss=3", true, "val_loss=3.0")]
    public void FilenameTemplatesGiveLightningsNames(string template, string values, bool autoInsert, string expected)
    {
        var metrics = values.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(p => p.Split('='))
            .ToDictionary(p => p[0], p => double.Parse(p[1], CultureInfo.InvariantCulture));
        Assert.Equal(expected, Lightning.Callbacks.FilenameTemplate.Format(template, metrics, autoInsert));
    }
}
