using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Lightning.Data;
using Lightning.Tests.Cli;
using Lightning.Tests.Training;
using Lightning.Tuning;
using TorchSharp.Modules;
using Xunit;
using static TorchSharp.torch;

namespace Lightning.Tests.Tuning;

/// <summary>
/// The learning-rate finder against PyTorch Lightning's: src/lightning/pytorch/tuner/lr_finder.py (schedule, smoothing,
/// divergence, suggestion) and tests/tests_pytorch/tuner/test_lr_finder.py (the cases cited by name below), on a one-weight
/// regression whose loss curve is known in closed form (<see cref="OneWeight"/>).
/// </summary>
[Collection("Training")]
public sealed class LrFinderTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("lightning-lrfind-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private Trainer NewTrainer(TrainerOptions? options = null) => new((options ?? new TrainerOptions()) with
    {
        Output = TextWriter.Null, Threads = 1, DefaultRootDir = _dir, EnableProgressBar = false,
    });

    // ---------------------------------------------------------------- the schedule

    [Fact]
    public void TheScheduleIsLightningsExponentialAndLinearLR()
    {
        // _ExponentialLR: step 0 at min_lr, then min_lr * (max_lr / min_lr) ^ ((k + 1) / n); with 1e-4 .. 1 over 4 steps the
        // powers are 10^-4, 10^(-4 + 4·2/4), 10^(-4 + 4·3/4), 10^0 (no step at r = 1/4, as Lightning).
        double[] exponential = Enumerable.Range(0, 4).Select(k => LrSchedule.At(LrFindMode.Exponential, 1e-4, 1, 4, k)).ToArray();
        Assert.Equal(new[] { 1e-4, 1e-2, 1e-1, 1.0 }, exponential, (a, b) => Math.Abs(a - b) <= 1e-15 * b);
        // _LinearLR: min_lr + (k + 1) / n * (max_lr - min_lr) after the first step.
        double[] linear = Enumerable.Range(0, 4).Select(k => LrSchedule.At(LrFindMode.Linear, 0, 1, 4, k)).ToArray();
        Assert.Equal(new[] { 0, 0.5, 0.75, 1.0 }, linear);
        // test_lr_candidates_between_min_and_max: every rate within the bounds, even given in the wrong order.
        Assert.All(Enumerable.Range(0, 3).Select(k => LrSchedule.At(LrFindMode.Exponential, 1.0, 1e-8, 3, k)), lr => Assert.InRange(lr, 1e-8, 1.0));
    }

    [Theory]
    [InlineData(LrFindMode.Exponential, 1e-4, 1.0)]
    [InlineData(LrFindMode.Linear, 0.01, 0.5)]
    public void EveryOptimizerStepOfTheSweepRunsAtTheScheduledRate(LrFindMode mode, double minLr, double maxLr)
    {
        var model = new OneWeight();
        var result = NewTrainer().Tuner.LrFind(model, OneWeight.Batches1(4), minLr, maxLr, numTraining: 4, mode, earlyStopThreshold: null);
        var expected = Enumerable.Range(0, 4).Select(k => LrSchedule.At(mode, minLr, maxLr, 4, k)).ToList();
        Assert.Equal(expected, result.LearningRates);
        // What the optimizer had at each step (the module's own OnBeforeOptimizerStep hook), bit for bit.
        Assert.Equal(expected, model.SteppedRates);
        Assert.Equal(mode, result.Mode);
        Assert.False(result.StoppedEarly);
    }

    // ---------------------------------------------------------------- smoothing, divergence, suggestion on a known curve

    /// <summary>
    /// The sweep on <see cref="OneWeight"/> computed by hand: from w = 0, loss 0.5 (w - 1)², then w ← w - η_k (w - 1) (the
    /// error shrinks by 1 - η_k), then Lightning's _LRCallback.on_train_batch_end line by line (current_step is the global
    /// step after the step, from 1). The error is tracked through w, as the module does: the ranges below keep it above 1e-7,
    /// far from where w's rounding near 1 would decide the curve.
    /// </summary>
    private static (List<double> Lrs, List<double> Losses, bool Stopped) HandSweep(LrFindMode mode, double minLr, double maxLr, int n, double? threshold)
    {
        var lrs = new List<double>();
        var losses = new List<double>();
        double w = 0, avg = 0, best = 0;
        for (int k = 0; k < n; k++)
        {
            double r = (k + 1.0) / n;
            double lr = k == 0 ? minLr : mode == LrFindMode.Exponential ? minLr * Math.Pow(maxLr / minLr, r) : minLr + r * (maxLr - minLr);
            double e = w - 1;
            double loss = 0.5 * (e * e);
            w -= lr * e;
            int currentStep = k + 1;
            avg = 0.98 * avg + (1 - 0.98) * loss;
            double smoothed = avg / (1 - Math.Pow(0.98, currentStep + 1));
            bool stop = threshold is double t && currentStep > 1 && smoothed > t * best;
            if (smoothed < best || currentStep == 1) best = smoothed;
            lrs.Add(lr);
            losses.Add(smoothed);
            if (stop) return (lrs, losses, true);
        }
        return (lrs, losses, false);
    }

    /// <summary>Lightning's suggestion() by hand: skip, drop non-finite, torch.gradient with spacing, argmin.</summary>
    private static int HandSuggestion(IReadOnlyList<double> lrs, IReadOnlyList<double> losses, int skipBegin = 10, int skipEnd = 1)
    {
        var idx = Enumerable.Range(skipBegin, losses.Count - skipBegin - skipEnd).Where(i => double.IsFinite(losses[i])).ToList();
        double Grad(int j)
        {
            if (j == 0) return (losses[idx[1]] - losses[idx[0]]) / (lrs[idx[1]] - lrs[idx[0]]);
            if (j == idx.Count - 1) return (losses[idx[j]] - losses[idx[j - 1]]) / (lrs[idx[j]] - lrs[idx[j - 1]]);
            double hl = lrs[idx[j]] - lrs[idx[j - 1]], hr = lrs[idx[j + 1]] - lrs[idx[j]];
            double a = -hr / (hl * (hl + hr)), b = (hr - hl) / (hl * hr), c = hl / (hr * (hl + hr));
            return a * losses[idx[j - 1]] + b * losses[idx[j]] + c * losses[idx[j + 1]];
        }
        int best = 0;
        for (int j = 1; j < idx.Count; j++) if (Grad(j) < Grad(best)) best = j;
        return idx[best];
    }

    [Fact]
    public void TheSweepStopsWhenTheSmoothedLossPassesFourTimesTheBestAndSuggestsTheSteepestDescent()
    {
        // float64 so the module computes what the hand sweep computes; rates 1e-2 .. 30 over 50 steps: the loss falls until the
        // rate nears 1 and explodes once it passes 2 (|1 - η| > 1).
        var model = new OneWeight();
        var result = NewTrainer(new TrainerOptions { Precision = TrainingPrecision.Float64 }).Tuner.LrFind(model, OneWeight.Batches1(10), 1e-2, 30, numTraining: 50);
        var (lrs, losses, stopped) = HandSweep(LrFindMode.Exponential, 1e-2, 30, 50, threshold: 4.0);

        Assert.True(stopped);
        Assert.True(result.StoppedEarly);
        Assert.Equal(lrs.Count, result.LearningRates.Count);
        Assert.InRange(lrs.Count, 20, 49);
        Assert.Equal(lrs, result.LearningRates);
        Assert.Equal(losses, result.Losses, (a, b) => Math.Abs(a - b) <= 1e-7 * Math.Abs(b));
        // The rule itself: only the last point is above 4 x the best before it.
        double best = result.Losses[0];
        for (int i = 1; i < result.Losses.Count; i++)
        {
            Assert.Equal(i == result.Losses.Count - 1, result.Losses[i] > 4 * best);
            best = Math.Min(best, result.Losses[i]);
        }
        Assert.True(result.LearningRates[^1] > 2);   // it diverged only past the rate where SGD on this loss must

        var suggestion = result.Suggest();
        Assert.NotNull(suggestion);
        Assert.Equal(HandSuggestion(lrs, losses), suggestion.Value.Index);
        Assert.Equal(result.LearningRates[suggestion.Value.Index], result.Suggestion);
        Assert.Equal(result.Losses[suggestion.Value.Index], suggestion.Value.Loss);
    }

    [Fact]
    public void WithoutAThresholdTheSweepRunsAllItsSteps()
    {
        // test_accumulation_and_early_stopping: early_stop_threshold=None gives exactly num_training points.
        var model = new OneWeight();
        var result = NewTrainer(new TrainerOptions { Precision = TrainingPrecision.Float64 }).Tuner.LrFind(model, OneWeight.Batches1(7), 1e-2, 10, numTraining: 40, earlyStopThreshold: null);
        var (lrs, losses, stopped) = HandSweep(LrFindMode.Exponential, 1e-2, 10, 40, threshold: null);
        Assert.False(stopped);
        Assert.False(result.StoppedEarly);
        Assert.Equal(40, result.LearningRates.Count);
        Assert.Equal(lrs, result.LearningRates);
        Assert.Equal(losses, result.Losses, (a, b) => Math.Abs(a - b) <= 1e-7 * Math.Abs(b));
        Assert.Equal(40, model.Batches);   // 7 batches an epoch: the sweep ran over 6 epochs
    }

    [Fact]
    public void AccumulatedBatchesGiveOnePointPerOptimizerStepAtThatStepsRate()
    {
        // test_accumulation_and_early_stopping: accumulate_grad_batches=2 gives num_training points over twice as many batches.
        var model = new OneWeight();
        var result = NewTrainer(new TrainerOptions { AccumulateGradBatches = 2 }).Tuner.LrFind(model, OneWeight.Batches1(8), 1e-4, 0.1, numTraining: 10, earlyStopThreshold: null);
        Assert.Equal(10, result.LearningRates.Count);
        Assert.Equal(20, model.Batches);
        Assert.Equal(result.LearningRates, model.SteppedRates);
    }

    [Fact]
    public void AManuallyOptimizedModuleStepsAtTheScheduledRates()
    {
        var model = new ManualClassifier();
        var result = NewTrainer().Tuner.LrFind(model, SyntheticData.Loader(64, 2, 16, shuffle: true), 1e-4, 1, numTraining: 12, earlyStopThreshold: null);
        Assert.Equal(Enumerable.Range(0, 12).Select(k => LrSchedule.At(LrFindMode.Exponential, 1e-4, 1, 12, k)), result.LearningRates);
        Assert.All(result.Losses, l => Assert.True(double.IsFinite(l)));
    }

    [Fact]
    public void TheModulesSchedulerIsLeftOutOfTheSweep()
    {
        // A ReduceLROnPlateau on a validation metric would fail at the first epoch end (the sweep does not validate), and any
        // scheduler would change the rates; Lightning's _exchange_scheduler replaces it too.
        var model = new ScriptedScore(1.0) { Plateau = true };
        var result = NewTrainer().Tuner.LrFind(model, SyntheticData.Loader(32, 2, 16, shuffle: false), 1e-3, 0.1, numTraining: 7, earlyStopThreshold: null);
        Assert.Equal(Enumerable.Range(0, 7).Select(k => LrSchedule.At(LrFindMode.Exponential, 1e-3, 0.1, 7, k)), result.LearningRates);
    }

    // ---------------------------------------------------------------- the suggestion alone

    [Fact]
    public void TheSuggestionIsTheMinimumOfTorchGradientWithTheRatesAsSpacing()
    {
        // Uneven rates 1, 2, 4 and losses 0, 1, 5: one-sided 1/1 = 1 and 4/2 = 2 at the ends, and inside
        // (1² · 5 - 2² · 0 + (2² - 1²) · 1) / (1 · 2 · 3) = 8/6.
        Assert.Equal(new[] { 1, 8.0 / 6, 2 }, LrFinderResult.Gradient(new double[] { 1, 2, 4 }, new double[] { 0, 1, 5 }));
        // Even rates: central differences; the steepest fall is at index 1, (2 - 5) / 2 = -1.5.
        var result = new LrFinderResult(new double[] { 1, 2, 3, 4, 5 }, new[] { 5, 4, 2, 1.5, 1.4 });
        Assert.Equal(new LrSuggestion(1, 2, 4), result.Suggest(skipBegin: 0, skipEnd: 0));
        // Skipping the end point changes the one-sided difference of the new last point, not the answer here.
        Assert.Equal(1, result.Suggest(skipBegin: 0, skipEnd: 1)!.Value.Index);
        Assert.Equal(2, result.Suggest(skipBegin: 2, skipEnd: 0)!.Value.Index);
    }

    [Fact]
    public void TheSuggestionOfASineIsPi()
    {
        // test_gradient_correctness: 1000 points of sin on [0, 2π], skip 2 and 2: the steepest descent is at π.
        var lrs = Enumerable.Range(0, 1000).Select(i => 2 * Math.PI * i / 999).ToArray();
        var result = new LrFinderResult(lrs, lrs.Select(Math.Sin).ToArray());
        Assert.InRange(result.Suggest(skipBegin: 2, skipEnd: 2)!.Value.LearningRate, Math.PI - 1e-2, Math.PI + 1e-2);
    }

    [Theory]
    // test_suggestion_not_enough_finite_points, row by row (losses as a string; n = NaN, i = infinity).
    [InlineData(10, 1, "", false)]
    [InlineData(0, 2, "0 1 2", false)]
    [InlineData(0, 1, "0 1 2", true)]
    [InlineData(1, 1, "0 1 2", false)]
    [InlineData(1, 1, "0 1 2 3", true)]
    [InlineData(0, 1, "n n 0 i 1 2 3 i 2 n 1", true)]
    [InlineData(4, 1, "n n 0 i 1 2 3 i 2 n 1", true)]
    public void TooFewFiniteLossesGiveNoSuggestion(int skipBegin, int skipEnd, string losses, bool suggests)
    {
        var values = losses.Split(' ', StringSplitOptions.RemoveEmptyEntries)
            .Select(s => s switch { "n" => double.NaN, "i" => double.PositiveInfinity, _ => double.Parse(s, System.Globalization.CultureInfo.InvariantCulture) })
            .ToArray();
        var result = new LrFinderResult(values.Select((_, i) => (double)i).ToArray(), values);
        Assert.Equal(suggests, result.Suggest(skipBegin, skipEnd) is not null);
    }

    [Fact]
    public void ANonFiniteLastLossDoesNotChangeTheSuggestion()
    {
        // test_suggestion_with_non_finite_values.
        var (lrs, losses, _) = HandSweep(LrFindMode.Exponential, 1e-3, 1, 40, threshold: null);
        double before = new LrFinderResult(lrs, losses).Suggestion!.Value;
        losses[^1] = double.NaN;
        Assert.Equal(before, new LrFinderResult(lrs, losses).Suggestion);
        // test_suggestion_parameters_work: skipping far more changes it.
        Assert.NotEqual(before, new LrFinderResult(lrs, losses).Suggest(skipBegin: 30)!.Value.LearningRate);
    }

    // ---------------------------------------------------------------- restoring everything

    private static Dictionary<string, byte[]> Bytes(nn.Module module) =>
        module.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.cpu().bytes.ToArray());

    private static byte[] RandomState()
    {
        using var state = get_rng_state();
        return state.bytes.ToArray();
    }

    private static byte[] OptimizerState(optim.Optimizer optimizer)
    {
        using var buffer = new MemoryStream();
        using (var writer = new BinaryWriter(buffer)) ((OptimizerHelper)optimizer).save_state_dict(writer);
        return buffer.ToArray();
    }

    [Fact]
    public void WeightsModeRandomStateAndTrainerCountersAreAsBeforeAndNoRunFolderIsLeft()
    {
        // test_model_reset_correctly and test_trainer_reset_correctly: every weight bit for bit, the trainer's counters.
        manual_seed(11);
        var model = new TinyClassifier(hidden: 8) { LearningRate = 0.01 };
        ((ILightningModule)model).RegisterComponentsOnce();
        model.eval();
        var weights = Bytes(model);
        var random = RandomState();
        // A trainer with its defaults (checkpointing, CSV and plot loggers) and a seed, as a user's would be.
        var trainer = new Trainer(new TrainerOptions { Output = TextWriter.Null, Threads = 1, DefaultRootDir = _dir, Seed = 5 });
        var afterSeed = RandomState();

        var result = trainer.Tuner.LrFind(model, new BlobsDataModule(), numTraining: 20);

        Assert.Equal(20, result.LearningRates.Count);
        Assert.Equal(weights, Bytes(model));
        Assert.False(model.training);
        Assert.Equal(afterSeed, RandomState());
        Assert.NotEqual(random, afterSeed);
        Assert.Equal(0, trainer.GlobalStep);
        Assert.Equal(0, trainer.Iteration);
        Assert.Equal(0, trainer.CurrentEpoch);
        Assert.False(trainer.ShouldStop);
        Assert.Null(trainer.Optimizer);
        Assert.Null(trainer.Module);
        Assert.Empty(trainer.CallbackMetrics);
        Assert.Empty(trainer.History);
        Assert.Empty(Directory.EnumerateFileSystemEntries(_dir));   // no lightning_logs, no checkpoint, no .lr_find file
    }

    [Fact]
    public void AfterAFitTheCountersAndTheKeptOptimizerAreAsBefore()
    {
        // An optimizer [ConfigureOptimizers] keeps in a field is the one the sweep steps: its momentum buffers and rate come
        // back bit for bit (Lightning restores the optimizer from its temporary checkpoint).
        var model = new OneWeight { Lr = 0.05, Momentum = 0.9, KeepOptimizer = true };
        var trainer = NewTrainer(new TrainerOptions { MaxSteps = 3, EnableCheckpointing = false, Loggers = [] });
        trainer.Fit(model, OneWeight.Batches1(5));
        var optimizer = trainer.Optimizer!;
        var (step, iteration, epoch, metrics) = (trainer.GlobalStep, trainer.Iteration, trainer.CurrentEpoch, trainer.CallbackMetrics.ToList());
        var state = OptimizerState(optimizer);
        var weights = Bytes(model);

        var result = trainer.Tuner.LrFind(model, OneWeight.Batches1(5), 1e-3, 1, numTraining: 8, earlyStopThreshold: null);

        Assert.Equal(8, result.LearningRates.Count);
        Assert.Equal(state, OptimizerState(optimizer));
        Assert.Equal(0.05, optimizer.ParamGroups.Single().LearningRate);
        Assert.Equal(weights, Bytes(model));
        Assert.Equal((3L, 3L, 0), (trainer.GlobalStep, trainer.Iteration, trainer.CurrentEpoch));
        Assert.Equal((step, iteration, epoch), (trainer.GlobalStep, trainer.Iteration, trainer.CurrentEpoch));
        Assert.Equal(metrics, trainer.CallbackMetrics.ToList());
        Assert.Same(optimizer, trainer.Optimizer);
    }

    [Fact]
    public void AFailingSweepStillPutsTheModuleBack()
    {
        // test_lr_finder_checkpoint_cleanup_on_error: the failure propagates, nothing is left behind.
        var model = new OneWeight();
        ((ILightningModule)model).RegisterComponentsOnce();
        var weights = Bytes(model);
        var batches = OneWeight.Batches1(3).Select((b, i) => i < 2 ? b : (ones(1, 2), ones(1, 3))).ToList();   // the third batch: shapes that do not broadcast
        Assert.ThrowsAny<Exception>(() => NewTrainer().Tuner.LrFind(model, batches, numTraining: 10));
        Assert.Equal(weights, Bytes(model));
        Assert.Empty(Directory.EnumerateFileSystemEntries(_dir));
    }

    [Fact]
    public void RepeatedSweepsGiveTheSameResults()
    {
        // test_multiple_lr_find_calls_gives_same_results.
        var model = new TinyClassifier(hidden: 8);
        var trainer = NewTrainer(new TrainerOptions { Seed = 3 });
        var runs = Enumerable.Range(0, 3).Select(_ => trainer.Tuner.LrFind(model, SyntheticData.Loader(96, 1, 16, shuffle: true), numTraining: 30)).ToList();
        Assert.All(runs.Skip(1), r => Assert.Equal(runs[0].Losses, r.Losses));
        Assert.All(runs.Skip(1), r => Assert.Equal(runs[0].LearningRates, r.LearningRates));
    }

    // ---------------------------------------------------------------- options and arguments

    [Fact]
    public void FastDevRunSkipsTheSweepAsLightningDoes()
    {
        var output = new StringWriter();
        var model = new OneWeight();
        var result = new Trainer(new TrainerOptions { FastDevRun = 1, Output = output }).Tuner.LrFind(model, OneWeight.Batches1(3));
        Assert.Empty(result.LearningRates);
        Assert.Null(result.Suggestion);
        Assert.Equal(0, model.Batches);
        Assert.Contains("Skipping the learning-rate finder: FastDevRun is set.", output.ToString());
    }

    [Theory]
    [InlineData(LrFindMode.Exponential, 0, 1, 100, 4.0, "minLr")]
    [InlineData(LrFindMode.Exponential, 1e-8, double.PositiveInfinity, 100, 4.0, "maxLr")]
    [InlineData(LrFindMode.Linear, -1, 1, 100, 4.0, "minLr")]
    [InlineData(LrFindMode.Exponential, 1e-8, 1, 0, 4.0, "numTraining")]
    [InlineData(LrFindMode.Exponential, 1e-8, 1, 100, -1.0, "earlyStopThreshold")]
    [InlineData((LrFindMode)7, 1e-8, 1, 100, 4.0, "mode")]
    public void BadArgumentsNameTheArgument(LrFindMode mode, double minLr, double maxLr, int numTraining, double threshold, string name)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => NewTrainer().Tuner.LrFind(new OneWeight(), OneWeight.Batches1(2), minLr, maxLr, numTraining, mode, threshold));
        Assert.Equal(name, e.ParamName);
    }

    [Fact]
    public void ALinearSweepMayStartAtZero()
    {
        var result = NewTrainer().Tuner.LrFind(new OneWeight(), OneWeight.Batches1(2), 0, 0.5, numTraining: 5, LrFindMode.Linear, earlyStopThreshold: null);
        Assert.Equal(new[] { 0, 0.2, 0.3, 0.4, 0.5 }, result.LearningRates, (a, b) => Math.Abs(a - b) < 1e-15);
    }

    [Fact]
    public void TheDocsExampleRuns()
    {
        // docs/lr-finder.md's example, with TinyClassifier for FashionCnn and synthetic blobs for Fashion-MNIST.
        var data = new BlobsDataModule();
        var trainer = new Trainer(new TrainerOptions { MaxEpochs = 5, Seed = 42, DefaultRootDir = _dir, Output = TextWriter.Null, Threads = 1 });
        var model = new TinyClassifier();

        LrFinderResult finder = trainer.Tuner.LrFind(model, data);
        var plot = finder.Plot(Path.Combine(_dir, "lr_find.png"));

        var tuned = TinyClassifier.Create(model.Hparams with { LearningRate = finder.Suggestion ?? model.Hparams.LearningRate });
        trainer.Fit(tuned, data);

        Assert.NotNull(finder.Suggestion);
        Assert.InRange(finder.Suggestion.Value, 1e-8, 1);
        Assert.Equal(finder.Suggestion, tuned.Hparams.LearningRate);
        Assert.True(File.Exists(plot));
        Assert.Equal(30, trainer.GlobalStep);   // 5 epochs of 6 batches: the sweep's 100 steps are not counted
        Assert.Equal(finder.Suggestion, trainer.Optimizer!.ParamGroups.Single().LearningRate);   // the fit trained at the found rate
    }

    // ---------------------------------------------------------------- the plot

    private static (int Width, int Height) PngSize(string path)
    {
        var bytes = File.ReadAllBytes(path);
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A }, bytes[..8]);
        Assert.Equal("IHDR", System.Text.Encoding.ASCII.GetString(bytes, 12, 4));
        return (BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(16)), BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(20)));
    }

    [Theory]
    [InlineData(LrFindMode.Exponential)]
    [InlineData(LrFindMode.Linear)]
    public void ThePlotIsAPngOfTheRequestedSize(LrFindMode mode)
    {
        var result = NewTrainer(new TrainerOptions { Precision = TrainingPrecision.Float64 }).Tuner.LrFind(new OneWeight(), OneWeight.Batches1(10), 1e-3, 10, numTraining: 60, mode);
        Assert.NotNull(result.Suggestion);
        var path = result.Plot(Path.Combine(_dir, "plots", "lr_find.png"));
        Assert.Equal(Path.Combine(_dir, "plots", "lr_find.png"), path);
        Assert.Equal((640, 440), PngSize(path));
        Assert.Equal((300, 200), PngSize(result.Plot(Path.Combine(_dir, "small.png"), suggest: false, width: 300, height: 200)));
    }

    [Fact]
    public void AResultWithoutASuggestionOrFiniteLossesStillPlots()
    {
        var result = new LrFinderResult(new[] { 1e-3, 1e-2 }, new[] { double.NaN, double.PositiveInfinity });
        Assert.Null(result.Suggestion);
        Assert.Equal((640, 440), PngSize(result.Plot(Path.Combine(_dir, "empty.png"))));
    }
}
