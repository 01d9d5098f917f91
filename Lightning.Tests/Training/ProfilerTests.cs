using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using Lightning.Callbacks;
using Lightning.Cli;
using Lightning.Data;
using Lightning.Profiling;
using Lightning.Tests.Cli;
using Xunit;

namespace Lightning.Tests.Training;

/// <summary>TrainerOptions.Profiler = Simple (Lightning's profiler="simple"): exact counts, the table, profile.csv; off: nothing.</summary>
[Collection("Training")]
public sealed class ProfilerTests : IDisposable
{
    private const string Fetch = "[_TrainingEpochLoop].train_dataloader_next";
    private const string Transfer = "[Strategy]SingleDeviceStrategy.batch_to_device";
    private const string Forward = "[Strategy]SingleDeviceStrategy.training_step";
    private const string Backward = "[Strategy]SingleDeviceStrategy.backward";

    private readonly string _dir = Directory.CreateTempSubdirectory("lightning-profiler-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static TensorDataLoader Train() => SyntheticData.Loader(4 * 16, 5, 16, shuffle: true);   // 4 batches

    private static TensorDataLoader Val() => SyntheticData.Loader(2 * 16, 6, 16, shuffle: false);    // 2 batches

    private TrainerOptions Options(StringWriter output, ProfilerKind profiler, int accumulate = 1, params ICallback[] callbacks) => new()
    {
        MaxEpochs = 2, Profiler = profiler, AccumulateGradBatches = accumulate, Callbacks = callbacks, Output = output, Threads = 1, Seed = 3,
        DefaultRootDir = _dir, EnableProgressBar = false,
    };

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void CountsAreExactAndTheTableAndCsvListTheActions(int accumulate)
    {
        var output = new StringWriter();
        var recorder = new RecordingCallback();
        var trainer = new Trainer(Options(output, ProfilerKind.Simple, accumulate, recorder));
        trainer.Fit(new TinyClassifier(), Train(), Val());

        var profile = trainer.Profiler!;
        Assert.NotNull(profile);
        Assert.Equal(8, profile.Calls(Fetch));   // 2 epochs x 4 batches
        Assert.Equal(8, profile.Calls(Transfer));
        Assert.Equal(8, profile.Calls(Forward));
        Assert.Equal(8, profile.Calls(Backward));
        Assert.Equal(8, profile.Calls("run_training_batch"));
        Assert.Equal(8 / accumulate, profile.Calls("[LightningModule]TinyClassifier.optimizer_step"));
        Assert.Equal(8 / accumulate, profile.Calls("[LightningModule]TinyClassifier.optimizer_zero_grad"));
        Assert.Equal(2, profile.Calls("run_training_epoch"));
        Assert.Equal(2, profile.Calls("run_validation"));
        Assert.Equal(1, profile.Calls("run_sanity_check"));
        Assert.Equal(2, profile.Calls("save_checkpoint"));   // the default ModelCheckpoint, once per epoch
        Assert.Equal(1, profile.Calls("[Logger]CsvLogger.finalize"));
        Assert.True(profile.Calls("[Logger]CsvLogger.log_metrics") >= 4);   // 2 validations and 2 epoch ends at least

        // Each hook of the recording callback: as many calls in the profile as it saw.
        var seen = recorder.Calls.Select(c => Regex.Replace(c, "[:@].*$", "")).GroupBy(c => c).ToList();
        Assert.Equal(18, seen.Count);
        foreach (var hook in seen)
        {
            var action = "[Callback]RecordingCallback.on_" + Regex.Replace(hook.Key, "(?<=[a-z])([A-Z])", "_$1").ToLowerInvariant();
            Assert.True(hook.Count() == profile.Calls(action), $"{action}: {profile.Calls(action)} calls, the callback saw {hook.Count()}");
        }
        Assert.Equal(8, profile.Calls("[Callback]RecordingCallback.on_train_batch_end"));
        Assert.Equal(8 / accumulate, profile.Calls("[Callback]RecordingCallback.on_before_optimizer_step"));

        // Times: none negative; the fit's total holds the per-batch actions, which do not overlap.
        var entries = profile.Entries;
        Assert.All(entries, e => Assert.True(e.Total >= TimeSpan.Zero && e.Calls > 0, e.Action));
        var perBatch = new[] { Fetch, Transfer, Forward, Backward, "[LightningModule]TinyClassifier.optimizer_step", "[LightningModule]TinyClassifier.optimizer_zero_grad" };
        var sum = entries.Where(e => perBatch.Contains(e.Action)).Aggregate(TimeSpan.Zero, (t, e) => t + e.Total);
        Assert.True(profile.Total >= sum, $"total {profile.Total} < per-batch actions {sum}");
        Assert.True(entries.Single(e => e.Action == "run_training_epoch").Total <= profile.Total);
        Assert.Equal(entries.OrderByDescending(e => e.Total).Select(e => e.Action), entries.Select(e => e.Action));

        // The table, printed at the end of the fit.
        var text = output.ToString();
        Assert.Contains("FIT Profiler Report", text);
        Assert.Contains("|  Action", text);
        Assert.Contains("Mean duration (s)", text);
        Assert.Contains("Percentage %", text);
        foreach (var e in entries) Assert.Contains("|  " + e.Action + " ", text);

        // profile.csv in the run folder: the header, the Total row, one row per action.
        var csv = Path.Combine(trainer.LogDir, "profile.csv");
        Assert.Contains($"Profile written to {csv}", text);
        var lines = File.ReadAllLines(csv);
        Assert.Equal("action,mean_s,num_calls,total_s,percentage", lines[0]);
        Assert.StartsWith("Total,,", lines[1]);
        Assert.Equal(entries.Count + 2, lines.Length);
        var backward = lines.Single(l => l.StartsWith(Backward + ",", StringComparison.Ordinal)).Split(',');
        Assert.Equal("8", backward[2]);
        Assert.True(double.Parse(backward[3], System.Globalization.CultureInfo.InvariantCulture) >= 0);
    }

    [Fact]
    public void OffTimesNothingPrintsNothingAndWritesNoCsv()
    {
        var output = new StringWriter();
        var trainer = new Trainer(Options(output, ProfilerKind.None));
        trainer.Fit(new TinyClassifier(), Train(), Val());
        Assert.Null(trainer.Profiler);
        Assert.DoesNotContain("Profiler Report", output.ToString());
        Assert.True(Directory.Exists(trainer.LogDir));
        Assert.False(Directory.EnumerateFiles(_dir, "profile.csv", SearchOption.AllDirectories).Any());
    }

    [Fact]
    public void ATrainingStepThatReturnsNullOrOptimizesManuallyIsTimedToTheBatchEnd()
    {
        var output = new StringWriter();
        var skipping = new Trainer(Options(output, ProfilerKind.Simple) with { MaxEpochs = 1 });
        skipping.Fit(new TinyRegressor { SkipOddBatches = true }, SyntheticData.Regression(4, 8, 1));
        Assert.Equal(4, skipping.Profiler!.Calls(Forward));
        Assert.Equal(2, skipping.Profiler.Calls(Backward));   // the even batches
        Assert.Equal(4, skipping.Profiler.Calls("run_training_batch"));

        var manual = new Trainer(Options(output, ProfilerKind.Simple) with { MaxEpochs = 1 });
        manual.Fit(new ManualClassifier(), Train());
        Assert.Equal(4, manual.Profiler!.Calls(Forward));
        Assert.Equal(0, manual.Profiler.Calls(Backward));   // inside the step, which optimizes itself
        Assert.Equal(0, manual.Profiler.Calls("[LightningModule]ManualClassifier.optimizer_step"));
    }

    [Fact]
    public void FastDevRunPrintsTheTableButHasNoRunFolderToWriteIt()
    {
        var output = new StringWriter();
        var trainer = new Trainer(Options(output, ProfilerKind.Simple) with { FastDevRun = 2 });
        trainer.Fit(new TinyClassifier(), Train(), Val());
        Assert.Equal(2, trainer.Profiler!.Calls(Fetch));
        Assert.Contains("FIT Profiler Report", output.ToString());
        Assert.DoesNotContain("Profile written", output.ToString());
        Assert.False(Directory.EnumerateFiles(_dir, "profile.csv", SearchOption.AllDirectories).Any());
    }

    [Fact]
    public void LightningsSpellingReadsBothWays()
    {
        Assert.Equal("simple", ProfilerKind.Simple.ToLightningString());
        Assert.True(LightningSpelling.TryParse("simple", out ProfilerKind kind));
        Assert.Equal(ProfilerKind.Simple, kind);
        Assert.False(LightningSpelling.TryParse("advanced", out kind));
        Assert.False(LightningSpelling.TryParse("Simple", out kind));
    }

    private (int Code, string Text, Trainer? Trainer) Cli(params string[] args)
    {
        var output = new StringWriter();
        Trainer? trainer = null;
        int code = TinyClassifier.RunCli(args.Concat(new[] { "--default-root-dir", _dir, "--enable-progress-bar", "false", "--max-epochs", "1",
                "--limit-train-batches", "2" }).ToArray(),
            _ => new BlobsDataModule(),
            new CliSettings<TinyClassifier, TinyClassifier.HParams> { Output = output, AfterFit = (t, _) => { trainer = t; return 0; } });
        return (code, output.ToString(), trainer);
    }

    [Fact]
    public void TheCommandLineTakesProfilerSimple()
    {
        var (code, text, trainer) = Cli("fit", "--profiler", "simple");
        Assert.True(code == 0, text);
        Assert.Equal(ProfilerKind.Simple, trainer!.Options.Profiler);
        Assert.Contains("FIT Profiler Report", text);
        Assert.True(File.Exists(Path.Combine(trainer.LogDir, "profile.csv")));
        Assert.Equal(2, trainer.Profiler!.Calls(Fetch));

        var (offCode, offText, off) = Cli("fit", "--profiler", "null");
        Assert.True(offCode == 0, offText);
        Assert.Equal(ProfilerKind.None, off!.Options.Profiler);
        Assert.DoesNotContain("Profiler Report", offText);
    }

    [Theory]
    [InlineData("\"simple\"", ProfilerKind.Simple)]
    [InlineData("null", ProfilerKind.None)]
    public void AConfigFileTakesTheProfiler(string json, ProfilerKind expected)
    {
        var path = Path.Combine(_dir, "profiler.json");
        File.WriteAllText(path, "{\"trainer\": {\"profiler\": " + json + "}}");
        var (code, text, trainer) = Cli("fit", "--config", path);
        Assert.True(code == 0, text);
        Assert.Equal(expected, trainer!.Options.Profiler);
        Assert.Equal(expected == ProfilerKind.Simple, text.Contains("FIT Profiler Report", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("advanced")]
    [InlineData("Simple")]
    public void ABadProfilerIsOneErrorLineNamingTheSpellings(string value)
    {
        var (code, text, trainer) = Cli("fit", "--profiler", value);
        Assert.Equal(2, code);
        Assert.Null(trainer);
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).ToArray();
        Assert.Equal(new[] { $"error: --profiler: '{value}' is not valid; expected \"simple\" (or null).", LightningCli.HelpHint }, lines);
    }

    [Fact]
    public void AnUnknownProfilerValueIsAnOptionError()
    {
        var e = Assert.Throws<OptionException>(() => new Trainer(new TrainerOptions { Profiler = (ProfilerKind)7 }));
        Assert.Contains("Profiler", e.Message);
    }
}
