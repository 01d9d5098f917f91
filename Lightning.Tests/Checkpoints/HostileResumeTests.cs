using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Lightning.Callbacks;
using Lightning.Checkpoints;
using Lightning.Tests.Training;
using Xunit;
using static TorchSharp.torch;

namespace Lightning.Tests.Checkpoints;

/// <summary>
/// A resume reads every value of a checkpoint's metadata with its type and range checked before anything changes;
/// a bad one is a CheckpointException naming the key. (Values that would reach libtorch are also run by the
/// child-process fuzzer, CheckpointFuzzTests, where a native abort cannot take the test host down.)
/// </summary>
[Collection("Training")]
public sealed class HostileResumeTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("lightning-hostile-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private TrainerOptions Options(int epochs, params Callback[] callbacks) =>
        new() { MaxEpochs = epochs, Seed = 5, Output = TextWriter.Null, Threads = 1, Callbacks = callbacks, DefaultRootDir = _dir, EnableProgressBar = false };

    private static Lightning.Data.TensorDataLoader Train() => SyntheticData.Loader(96, 5, 32, shuffle: true);

    private static Lightning.Data.TensorDataLoader Val() => SyntheticData.Loader(32, 6, 32, shuffle: false);

    /// <summary>A resumable checkpoint after 2 epochs of a module with a per-epoch scheduler and an EarlyStopping.</summary>
    private string Base()
    {
        var path = Path.Combine(_dir, "base.ckpt");
        var trainer = new Trainer(Options(2, new EarlyStopping { Monitor = "val_loss", Patience = 5 }));
        trainer.Fit(new TinyClassifier { LrDecay = 0.5 }, Train(), Val());
        trainer.SaveCheckpoint(path);
        return path;
    }

    /// <summary>A copy of <paramref name="path"/> with metadata <paramref name="key"/> set to <paramref name="value"/> (null removes it).</summary>
    private string WithMetadata(string path, string key, string? value)
    {
        var file = SafetensorsFile.Read(path);
        var metadata = file.Metadata.ToDictionary(kv => kv.Key, kv => kv.Value);
        if (value is null) metadata.Remove(key); else metadata[key] = value;
        var copy = Path.Combine(_dir, $"edited-{Guid.NewGuid():N}.ckpt");
        var tensors = file.LoadAll();
        SafetensorsFile.Write(copy, tensors, metadata);
        foreach (var (_, t) in tensors) t.Dispose();
        return copy;
    }

    private CheckpointException Resume(string path, TrainerOptions? options = null) =>
        Assert.Throws<CheckpointException>(() =>
            new Trainer(options ?? Options(4, new EarlyStopping { Monitor = "val_loss", Patience = 5 })).Fit(new TinyClassifier { LrDecay = 0.5 }, Train(), Val(), ckptPath: path));

    [Theory]
    [InlineData("scheduler", "{\"steps\":1000000000,\"plateau_values\":[]}", "'scheduler.steps' is 1000000000; expected a whole number from 0 to 2")]
    [InlineData("scheduler", "{\"steps\":\"2\"}", "'scheduler.steps' is string")]
    [InlineData("scheduler", "{\"steps\":-1}", "'scheduler.steps' is -1")]
    [InlineData("scheduler", "[]", "'scheduler' is array")]
    [InlineData("scheduler", "{\"steps\":2,\"steps\":1}", "duplicate")]
    [InlineData("callbacks", "[]", "'callbacks' is array")]
    [InlineData("callbacks", "{\"EarlyStopping{monitor=val_loss,mode=min}\":{\"wait_count\":\"0\"}}", "wait_count' is string")]
    [InlineData("callback_metrics", "{\"val_loss\":\"low\"}", "'callback_metrics.val_loss' is string")]
    [InlineData("epoch_finished", "yes", "'epoch_finished' is 'yes'; expected true or false")]
    [InlineData("epoch_end_done", "1", "'epoch_end_done' is '1'; expected true or false")]
    [InlineData("epoch", "-1", "'epoch' is '-1'")]
    [InlineData("epoch", "2147483647", "'epoch' is '2147483647'")]
    [InlineData("batch_in_epoch", "999", "'batch_in_epoch' (999) is more than the batches of the whole fit")]
    [InlineData("global_step", "1000000", "'global_step' (1000000) is more than the batches of the whole fit")]
    [InlineData("hparams", "{\"hidden\":16,\"hidden\":8}", "duplicate")]
    public void EveryMetadataValueIsCheckedForTypeAndRangeWithAnErrorNamingTheKey(string key, string value, string expected)
    {
        var e = Resume(WithMetadata(Base(), key, value));
        Assert.Contains(expected, e.Message);
        Assert.Contains("edited-", e.Message);   // the file is named
    }

    [Fact]
    public void AResumeThatFailsAtTheStartLeavesNoRunFolderBehind()
    {
        var bad = WithMetadata(Base(), "scheduler", "{\"steps\":99}");
        var before = Directory.GetDirectories(Path.Combine(_dir, "lightning_logs")).Length;
        Resume(bad);
        Assert.Equal(before, Directory.GetDirectories(Path.Combine(_dir, "lightning_logs")).Length);
    }

    [Fact]
    public void ACallbackStateThatMatchesNoCallbackIsAWarningNamingItOrAnErrorWhenStrict()
    {
        var path = Base();
        var output = new StringWriter();
        // The EarlyStopping now monitors another metric: its saved state (keyed by monitor and mode) matches nothing.
        var renamed = new EarlyStopping { Monitor = "val_acc", Mode = MonitorMode.Max, Patience = 5 };
        new Trainer(Options(3, renamed) with { Output = output }).Fit(new TinyClassifier { LrDecay = 0.5 }, Train(), Val(), ckptPath: path);
        var text = output.ToString();
        Assert.Contains("Warning: checkpoint", text);
        Assert.Contains("'EarlyStopping{monitor=val_loss,mode=min}'", text);
        Assert.Contains("'EarlyStopping{monitor=val_acc,mode=max}'", text);   // the callbacks present

        var e = Resume(path, Options(3, new EarlyStopping { Monitor = "val_acc", Mode = MonitorMode.Max, Patience = 5 }) with { StrictCallbackStates = true });
        Assert.Contains("'EarlyStopping{monitor=val_loss,mode=min}' match no callback", e.Message);
    }

    [Fact]
    public void TheGeneratorStateIsCheckedAsLibtorchChecksIt()
    {
        using var state = get_rng_state();
        var good = state.data<byte>().ToArray();
        Assert.Null(RandomState.Problem(good));
        Assert.Contains("'seeded' is 0", RandomState.Problem(new byte[good.Length]));
        Assert.Contains("'left' is -1", RandomState.Problem(Enumerable.Repeat((byte)0xFF, good.Length).ToArray()));
        Assert.Contains("too few", RandomState.Problem(good.AsSpan(0, 100)));
        var badNext = (byte[])good.Clone();
        BitConverter.TryWriteBytes(badNext.AsSpan(16), 625UL);
        Assert.Contains("'next' is 625", RandomState.Problem(badNext));
        var badLeft = (byte[])good.Clone();
        BitConverter.TryWriteBytes(badLeft.AsSpan(8), 625);
        Assert.Contains("'left' is 625", RandomState.Problem(badLeft));
    }

    [Fact]
    public void AResumeNeverDeletesTheFileItResumedFromNorFilesOutsideItsFolder()
    {
        // Lightning's ModelCheckpoint._should_remove_checkpoint (src/lightning/pytorch/callbacks/model_checkpoint.py):
        // the checkpoint the trainer resumed from, and files outside the callback's dirpath, are never removed.
        var first = Path.Combine(_dir, "first");
        var keep = new ModelCheckpoint { DirPath = first, Monitor = "val_loss", SaveTopK = 1 };
        new Trainer(Options(2, keep)).Fit(new TinyClassifier(), Train(), Val());
        var resumedFrom = keep.BestModelPath!;

        // Same folder: the resumed-from file leaves the top 1 when a better one is saved, but stays on disk.
        var again = new ModelCheckpoint { DirPath = first, Monitor = "val_loss", SaveTopK = 1 };
        new Trainer(Options(6, again)).Fit(new TinyClassifier(), Train(), Val(), ckptPath: resumedFrom);
        Assert.NotEqual(resumedFrom, again.BestModelPath);
        Assert.True(File.Exists(resumedFrom));

        // Another folder (the command line's new version_N): nothing of the first folder is touched.
        var filesBefore = Directory.GetFiles(first).OrderBy(f => f).ToList();
        var elsewhere = new ModelCheckpoint { DirPath = Path.Combine(_dir, "second"), Monitor = "val_loss", SaveTopK = 1 };
        new Trainer(Options(9, elsewhere)).Fit(new TinyClassifier(), Train(), Val(), ckptPath: again.BestModelPath);
        Assert.Equal(filesBefore, Directory.GetFiles(first).OrderBy(f => f).ToList());
        Assert.StartsWith(Path.Combine(_dir, "second"), elsewhere.BestModelPath);
    }

    [Fact]
    public void WhatAnInterruptedWriteLeftIsRemovedByTheNextSaveAndNeverTakenAsLast()
    {
        var dir = Path.Combine(_dir, "ckpts");
        Directory.CreateDirectory(dir);
        var leftover = Path.Combine(dir, "epoch=0-step=3.ckpt.tmp-" + Guid.NewGuid().ToString("N"));
        File.WriteAllBytes(leftover, Array.Empty<byte>());   // a process killed at the start of a save
        var other = Path.Combine(dir, "notes.ckpt.tmp-mine");   // not one of ours: kept
        File.WriteAllText(other, "x");
        File.SetLastWriteTimeUtc(leftover, DateTime.UtcNow.AddHours(1));   // newest, yet never "last"

        var checkpoint = new ModelCheckpoint { DirPath = dir, SaveLast = true, SaveTopK = 0 };
        var trainer = new Trainer(Options(1, checkpoint));
        trainer.Fit(new TinyClassifier(), Train(), Val());
        Assert.False(File.Exists(leftover));
        Assert.True(File.Exists(other));
        Assert.Equal(Path.Combine(dir, "last.ckpt"), checkpoint.LastModelPath);
        Assert.DoesNotContain(Directory.GetFiles(dir, "*.ckpt.tmp-*"), f => SafetensorsFile.IsTemporaryName(Path.GetFileName(f)));
        Assert.Equal(new[] { "last.ckpt" }, Directory.GetFiles(dir, "*.ckpt").Select(Path.GetFileName));
    }

    [Fact]
    public void TheTemporaryNameIsRecognisedExactly()
    {
        Assert.True(SafetensorsFile.IsTemporaryName("a.ckpt.tmp-" + Guid.NewGuid().ToString("N")));
        Assert.False(SafetensorsFile.IsTemporaryName("a.ckpt.tmp-" + Guid.NewGuid().ToString("N").ToUpperInvariant()));
        Assert.False(SafetensorsFile.IsTemporaryName("a.ckpt.tmp-mine"));
        Assert.False(SafetensorsFile.IsTemporaryName("a.ckpt"));
    }

    [Fact]
    public void AFolderOrAMissingFileIsNamedAsSuch()
    {
        Assert.Contains("is a folder", Resume(_dir).Message);
        Assert.Contains("does not exist", Resume(Path.Combine(_dir, "nope.ckpt")).Message);
    }
}
