using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Lightning.Callbacks;
using Lightning.Checkpoints;
using Lightning.Tests.Training;
using TorchSharp;
using TorchSharp.Modules;
using Xunit;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Lightning.Tests.Callbacks;

/// <summary>A small classifier with a BatchNorm layer (Lightning's SwaTestModel: Linear, BatchNorm1d, ReLU, Linear).</summary>
[LightningModule]
public partial class TinyBatchNormNet : Module<Tensor, Tensor>
{
    private readonly Linear fc1 = Linear(4, 8);
    private readonly BatchNorm1d bn = BatchNorm1d(8);
    private readonly Linear fc2 = Linear(8, 3);

    public TinyBatchNormNet() : base(nameof(TinyBatchNormNet)) => RegisterComponents();

    [Hyperparameter] public double LearningRate { get; init; } = 0.1;
    [Hyperparameter(Description = "ExponentialLR gamma per epoch; 1 for no scheduler")] public double LrDecay { get; init; } = 1.0;

    public override Tensor forward(Tensor x) => fc2.forward(functional.relu(bn.forward(fc1.forward(x))));

    /// <summary>What the BatchNorm layer sees.</summary>
    public Tensor BatchNormInput(Tensor x) => fc1.forward(x);

    public BatchNorm1d BatchNorm => bn;

    [TrainingStep]
    private Tensor TrainingStep((Tensor X, Tensor Y) batch, long batchIdx)
    {
        var loss = functional.cross_entropy(forward(batch.X), batch.Y);
        Log("loss", loss);
        return loss;
    }

    [ValidationStep]
    private void ValidationStep((Tensor X, Tensor Y) batch, long batchIdx) =>
        Log("val_loss", functional.cross_entropy(forward(batch.X), batch.Y));

    [ConfigureOptimizers]
    private Optimization ConfigureOptimizers()
    {
        var optimizer = torch.optim.SGD(parameters(), learningRate: LearningRate, momentum: 0.9);
        return new Optimization(optimizer, LrDecay < 1 ? torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma: LrDecay) : null);
    }
}

/// <summary>
/// EmaWeightAveraging, WeightAveraging and StochasticWeightAveraging against the formulas of Lightning's
/// <c>callbacks/weight_averaging.py</c> and <c>callbacks/stochastic_weight_avg.py</c> and PyTorch's <c>torch/optim/swa_utils.py</c>
/// (<c>get_ema_avg_fn</c>, <c>get_swa_avg_fn</c>, <c>SWALR.get_lr</c>, <c>update_bn</c>), and their checkpoints and resumes.
/// </summary>
[Collection("Training")]
public class WeightAveragingTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("lightning-averaging-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private TrainerOptions Options(int epochs, params ICallback[] callbacks) => new()
    {
        MaxEpochs = epochs, Seed = 7, Output = TextWriter.Null, Threads = 1, Callbacks = callbacks, DefaultRootDir = _dir,
        Loggers = Array.Empty<Lightning.Loggers.ILightningLogger>(), EnableCheckpointing = false, EnableProgressBar = false,
        EnableModelSummary = false,
    };

    private static Lightning.Data.TensorDataLoader Train(bool shuffle = true) => SyntheticData.Loader(96, 5, 16, shuffle);   // 6 batches
    private static Lightning.Data.TensorDataLoader Val() => SyntheticData.Loader(32, 6, 16, false);

    private static Dictionary<string, double[]> Snapshot(IEnumerable<KeyValuePair<string, Tensor>> tensors) =>
        tensors.Where(kv => kv.Value.is_floating_point())
            .ToDictionary(kv => kv.Key, kv => kv.Value.detach().cpu().to_type(ScalarType.Float64).data<double>().ToArray());

    private static Dictionary<string, double[]> Parameters(nn.Module module) =>
        Snapshot(module.named_parameters().Select(p => new KeyValuePair<string, Tensor>(p.name, p.parameter)));

    private static Dictionary<string, float[]> Bits(IEnumerable<KeyValuePair<string, Tensor>> tensors) =>
        tensors.Where(kv => kv.Value.dtype == ScalarType.Float32).ToDictionary(kv => kv.Key, kv => kv.Value.detach().cpu().data<float>().ToArray());

    private static void Close(Dictionary<string, double[]> expected, IReadOnlyDictionary<string, Tensor> actual, double tolerance)
    {
        var got = Snapshot(actual);
        foreach (var (key, values) in expected)
        {
            Assert.True(got.ContainsKey(key), key);
            for (int i = 0; i < values.Length; i++)
                Assert.True(Math.Abs(values[i] - got[key][i]) <= tolerance, $"{key}[{i}]: expected {values[i]}, got {got[key][i]}");
        }
    }

    private static void BitwiseEqual(Dictionary<string, float[]> expected, Dictionary<string, float[]> actual)
    {
        Assert.Equal(expected.Keys.OrderBy(k => k), actual.Keys.OrderBy(k => k));
        foreach (var (key, values) in expected) Assert.Equal(values, actual[key]);
    }

    /// <summary>Records what a test needs at hooks (listed after the averaging callback, so it sees what it did).</summary>
    private sealed class Recorder : Callback
    {
        public Action<Trainer, ILightningModule>? EpochStart, EpochEnd, ValidationStart, BatchStartLr;
        public Action<Trainer, ILightningModule, long>? BatchEnd;
        public override void OnTrainEpochStart(Trainer trainer, ILightningModule module) => EpochStart?.Invoke(trainer, module);
        public override void OnTrainEpochEnd(Trainer trainer, ILightningModule module) => EpochEnd?.Invoke(trainer, module);
        public override void OnValidationStart(Trainer trainer, ILightningModule module) => ValidationStart?.Invoke(trainer, module);
        public override void OnTrainBatchStart(Trainer trainer, ILightningModule module, long batchIdx) => BatchStartLr?.Invoke(trainer, module);
        public override void OnTrainBatchEnd(Trainer trainer, ILightningModule module, Tensor? loss, long batchIdx) => BatchEnd?.Invoke(trainer, module, batchIdx);
    }

    // ------------------------------------------------------------------ EMA

    [Fact]
    public void EmaEqualsTheRecursiveAverageOfTheWeightsAfterTheStepsItUpdatesAt()
    {
        // Lightning's EMAWeightAveraging.should_update: step index s = global_step - 1 updates when s >= start and s % n == 0;
        // PyTorch's AveragedModel copies at the first update, then get_ema_avg_fn: decay * ema + (1 - decay) * w.
        const double decay = 0.8;
        var ema = new EmaWeightAveraging { Decay = decay, UpdateEveryNSteps = 2, UpdateStartingAtStep = 3 };
        var afterStep = new List<(long Step, Dictionary<string, double[]> Weights)>();
        Dictionary<string, double[]>? lastOfEpoch0 = null, startOfEpoch1 = null;
        var recorder = new Recorder
        {
            BatchEnd = (t, m, _) => afterStep.Add((t.GlobalStep, Snapshot(m.Module.state_dict()))),
            EpochEnd = (t, m) => { if (t.CurrentEpoch == 0) lastOfEpoch0 = Snapshot(m.Module.state_dict()); },
            EpochStart = (t, m) => { if (t.CurrentEpoch == 1) startOfEpoch1 = Snapshot(m.Module.state_dict()); },
        };
        Seed.Everything(3);
        var model = new TinyClassifier { Optimizer = "sgd", LearningRate = 0.1 };
        new Trainer(Options(3, ema, recorder)).Fit(model, Train(), Val());

        Dictionary<string, double[]>? expected = null;
        int updates = 0;
        foreach (var (step, weights) in afterStep)
        {
            long s = step - 1;
            if (s < 3 || s % 2 != 0) continue;
            updates++;
            expected = expected is null ? weights.ToDictionary(kv => kv.Key, kv => kv.Value.ToArray())
                : expected.ToDictionary(kv => kv.Key, kv => kv.Value.Select((e, i) => decay * e + (1 - decay) * weights[kv.Key][i]).ToArray());
        }
        Assert.Equal(18, afterStep.Count);
        Assert.Equal(updates, ema.NumAveraged);   // step indices 4, 6, ..., 16: 7 updates
        Assert.Equal(7, updates);
        Close(expected!, ema.AveragedWeights!, 1e-5);
        // Training ended: the module holds the average; validation in between gave the training weights back.
        Close(expected!, model.state_dict(), 1e-5);
        Close(afterStep[^1].Weights, ema.TrainingWeights!, 0);   // the training weights are kept for a checkpoint written now
        Assert.Equal(lastOfEpoch0!.Keys, startOfEpoch1!.Keys);
        foreach (var key in lastOfEpoch0.Keys) Assert.Equal(lastOfEpoch0[key], startOfEpoch1[key]);
    }

    [Fact]
    public void EmaShouldUpdateFollowsLightning()
    {
        // tests_pytorch/callbacks/test_weight_averaging.py::test_ema_weight_averaging_should_update
        var callback = new EmaWeightAveraging { UpdateEveryNSteps = 5, UpdateStartingAtStep = 10 };
        Assert.False(callback.ShouldUpdate(stepIdx: 5));
        Assert.False(callback.ShouldUpdate(stepIdx: 9));
        Assert.True(callback.ShouldUpdate(stepIdx: 10));
        Assert.False(callback.ShouldUpdate(stepIdx: 11));
        Assert.True(callback.ShouldUpdate(stepIdx: 15));
        Assert.False(callback.ShouldUpdate(epochIdx: 3));
        var byEpoch = new EmaWeightAveraging { UpdateStartingAtEpoch = 2 };
        Assert.False(byEpoch.ShouldUpdate(epochIdx: 1));
        Assert.True(byEpoch.ShouldUpdate(epochIdx: 2));
        Assert.True(byEpoch.ShouldUpdate(stepIdx: 0));   // steps still update: no start step is set
        Assert.Throws<LightningException>(() => new Trainer(Options(1, new EmaWeightAveraging { Decay = 1.5 })).Fit(new TinyClassifier(), Train()));
    }

    [Fact]
    public void ValidationRunsWithTheAveragedWeights()
    {
        // Lightning swaps the average in at on_validation_epoch_start and back at on_validation_epoch_end.
        var ema = new EmaWeightAveraging { Decay = 0.5 };
        Dictionary<string, double[]>? atValidation = null, training = null;
        var recorder = new Recorder
        {
            BatchEnd = (t, m, _) => training = Snapshot(m.Module.state_dict()),
            ValidationStart = (t, m) => atValidation = Snapshot(m.Module.state_dict()),
        };
        Seed.Everything(4);
        var model = new TinyClassifier { Optimizer = "sgd", LearningRate = 0.1 };
        var trainer = new Trainer(Options(1, ema, recorder));
        trainer.Fit(model, Train(), Val());
        // One epoch, validation at its end: the module held the average of all its steps, which it holds again now
        // (training ended), and not the training weights of the last step.
        var final = Snapshot(model.state_dict());
        foreach (var key in atValidation!.Keys) Assert.Equal(final[key], atValidation[key]);
        Assert.NotEqual(training!["fc1.weight"], atValidation["fc1.weight"]);
        // The module holds the same average now (no update after the validation): its validation loss is the logged one.
        using var noGrad = no_grad();
        model.eval();
        var (x, y) = SyntheticData.Blobs(32, 6);
        double expected = functional.cross_entropy(model.forward(x), y).item<float>();
        Assert.Equal(expected, trainer.CallbackMetrics["val_loss"], 5);
    }

    [Fact]
    public void LoadFromCheckpointGivesTheAveragedWeightsAndTheFileKeepsTheTrainingWeights()
    {
        var ema = new EmaWeightAveraging { Decay = 0.7 };
        Dictionary<string, float[]>? average = null, training = null;
        var recorder = new Recorder
        {
            EpochEnd = (t, m) => { average = Bits(ema.AveragedWeights!); training = Bits(m.Module.state_dict()); },
        };
        var checkpoint = new ModelCheckpoint { DirPath = _dir, SaveTopK = 0, SaveLast = true };
        Seed.Everything(5);
        new Trainer(Options(2, ema, recorder, checkpoint)).Fit(new TinyClassifier { Optimizer = "sgd" }, Train(), Val());

        string path = Path.Combine(_dir, "last.ckpt");
        var loaded = TinyClassifier.LoadFromCheckpoint(path);
        BitwiseEqual(average!, Bits(loaded.state_dict()));
        var file = SafetensorsFile.Read(path);
        var current = file.Tensors.Where(e => e.Name.StartsWith("callbacks.EmaWeightAveraging.current.", StringComparison.Ordinal))
            .ToDictionary(e => e.Name["callbacks.EmaWeightAveraging.current.".Length..], e => file.Load(e.Name));
        BitwiseEqual(training!, Bits(current));
        Assert.NotEqual(average!["fc1.weight"], training!["fc1.weight"]);
    }

    [Fact]
    public void EmaResumedAfterTwoEpochsEqualsFourUninterruptedEpochsBitwise()
    {
        // Lightning's test_ema_resume, exactly: the average and the training weights after 2 + 2 epochs equal those after 4.
        (Dictionary<string, float[]> Average, Dictionary<string, float[]> Training, long N) Run(string dir, string? ckpt, int seed)
        {
            var ema = new EmaWeightAveraging { Decay = 0.9, UpdateEveryNSteps = 2 };
            var checkpoint = new ModelCheckpoint { DirPath = dir, SaveTopK = -1, Filename = "{epoch}" };
            Seed.Everything(seed);
            var model = new TinyClassifier { LrDecay = 0.7 };   // Adam and a scheduler must be restored too
            new Trainer(Options(4, ema, checkpoint)).Fit(model, Train(), Val(), ckptPath: ckpt);
            return (Bits(model.state_dict()), Bits(ema.TrainingWeights!), ema.NumAveraged);
        }
        var straight = Run(Path.Combine(_dir, "a"), null, 11);
        string epoch1 = Directory.GetFiles(Path.Combine(_dir, "a"), "epoch=1*.ckpt").Single();
        var resumed = Run(Path.Combine(_dir, "b"), epoch1, 99);
        BitwiseEqual(straight.Average, resumed.Average);
        BitwiseEqual(straight.Training, resumed.Training);
        Assert.Equal(straight.N, resumed.N);
        Assert.NotEqual(straight.Average["fc1.weight"], straight.Training["fc1.weight"]);
    }

    [Fact]
    public void ADamagedAveragingTensorIsACheckpointExceptionNamingFileAndKey()
    {
        var checkpoint = new ModelCheckpoint { DirPath = _dir, SaveTopK = 0, SaveLast = true };
        Seed.Everything(6);
        new Trainer(Options(1, new EmaWeightAveraging(), checkpoint)).Fit(new TinyClassifier(), Train());
        string path = Path.Combine(_dir, "last.ckpt");
        const string key = "callbacks.EmaWeightAveraging.current.fc1.weight";

        void Rewrite(string target, Func<string, Tensor, Tensor?> change)
        {
            var file = SafetensorsFile.Read(path);
            var tensors = file.LoadAll().Select(t => (t.Name, Tensor: change(t.Name, t.Tensor))).Where(t => t.Tensor is not null)
                .Select(t => (t.Name, t.Tensor!)).ToList();
            SafetensorsFile.Write(target, tensors, file.Metadata);
        }
        string misShaped = Path.Combine(_dir, "mis-shaped.ckpt");
        Rewrite(misShaped, (name, t) => name == key ? t.reshape(-1) : t);
        string missing = Path.Combine(_dir, "missing.ckpt");
        Rewrite(missing, (name, t) => name == key ? null : t);
        foreach (var damaged in new[] { misShaped, missing })
        {
            var e = Assert.Throws<CheckpointException>(() =>
                new Trainer(Options(2, new EmaWeightAveraging())).Fit(new TinyClassifier(), Train(), ckptPath: damaged));
            Assert.Contains(damaged, e.Message);
            Assert.Contains(key, e.Message);
        }
    }

    // ------------------------------------------------------------------ SWA

    /// <summary>PyTorch's SWALR.get_lr, step by step (its recursion, not the closed form the callback uses).</summary>
    private static List<double> SwalrLearningRates(double lr, double swaLr, int annealEpochs, bool cos, int epochs)
    {
        Func<double, double> anneal = cos ? t => (1 - Math.Cos(Math.PI * t)) / 2 : t => t;
        var lrs = new List<double>();
        for (int stepCount = 1; stepCount <= epochs; stepCount++)   // the constructor's initial step, then one per epoch end
        {
            int step = stepCount - 1;
            if (annealEpochs == 0) step = Math.Max(1, step);
            double prevAlpha = anneal(Math.Max(0, Math.Min(1, (step - 1) / (double)Math.Max(1, annealEpochs))));
            double prevLr = prevAlpha == 1 ? swaLr : (lr - prevAlpha * swaLr) / (1 - prevAlpha);
            double alpha = anneal(Math.Max(0, Math.Min(1, step / (double)Math.Max(1, annealEpochs))));
            lr = swaLr * alpha + prevLr * (1 - alpha);
            lrs.Add(lr);
        }
        return lrs;
    }

    [Theory]
    [InlineData(SwaAnnealingStrategy.Cos, 2)]
    [InlineData(SwaAnnealingStrategy.Linear, 3)]
    [InlineData(SwaAnnealingStrategy.Linear, 0)]
    public void SwaAveragesTheWeightsEachSwaEpochStartsWithAndFollowsSwalr(SwaAnnealingStrategy strategy, int annealing)
    {
        // Lightning: swa_epoch_start=2 -> swa_start = 1 (from 0); the average is updated at on_train_epoch_start of epochs
        // 1..max_epochs-1 with get_swa_avg_fn, and SWALR (created at epoch 1's start, stepped at each epoch end) replaces the
        // ExponentialLR scheduler.
        const int epochs = 5;
        var swa = new StochasticWeightAveraging(0.02) { SwaEpochStart = 2, AnnealingEpochs = annealing, AnnealingStrategy = strategy };
        var starts = new List<Dictionary<string, double[]>>();
        var lrs = new List<double>();
        var batchLrs = new List<(int Epoch, double Lr)>();
        var recorder = new Recorder
        {
            EpochStart = (t, m) => { starts.Add(Parameters(m.Module)); lrs.Add(t.Optimizer!.ParamGroups.First().LearningRate); },
            BatchStartLr = (t, m) => batchLrs.Add((t.CurrentEpoch, t.Optimizer!.ParamGroups.First().LearningRate)),
        };
        Seed.Everything(8);
        var model = new TinyBatchNormNet { LearningRate = 0.1, LrDecay = 0.5 };
        new Trainer(Options(epochs, swa, recorder)).Fit(model, Train(), Val());

        Assert.Equal(1, swa.FirstSwaEpoch);
        Assert.Equal(epochs - 1, swa.NumAveraged);
        var expected = starts[0].Keys.ToDictionary(k => k, k => Enumerable.Range(0, starts[0][k].Length)
            .Select(i => starts.Skip(1).Average(s => s[k][i])).ToArray());
        Close(expected, swa.AveragedParameters!, 1e-6);
        BitwiseEqual(Bits(swa.AveragedParameters!), Bits(model.named_parameters().Select(p => new KeyValuePair<string, Tensor>(p.name, p.parameter))));

        // Learning rates: ExponentialLR before SWA (0.1, then 0.05 at epoch 1's start: SWALR's starting point), SWALR after.
        Assert.Equal(0.1, lrs[0], 12);
        var swalr = SwalrLearningRates(0.05, 0.02, annealing, strategy == SwaAnnealingStrategy.Cos, epochs - 1);
        for (int e = 1; e < epochs; e++)
        {
            Assert.Equal(swalr[e - 1], lrs[e], 12);
            Assert.All(batchLrs.Where(b => b.Epoch == e), b => Assert.Equal(swalr[e - 1], b.Lr, 12));
        }
        if (annealing == 0) Assert.Equal(0.02, lrs[1], 12);
    }

    [Fact]
    public void SwaRecomputesBatchNormStatisticsWithOnePassOverTheTrainingData()
    {
        // torch.optim.swa_utils.update_bn: running stats reset, momentum None (cumulative average over the batches), one pass
        // in train mode; BatchNorm's running_var is the unbiased batch variance.
        var swa = new StochasticWeightAveraging(0.05) { SwaEpochStart = 0.5, AnnealingEpochs = 1 };
        Seed.Everything(9);
        var model = new TinyBatchNormNet();
        var train = Train(shuffle: false);
        new Trainer(Options(4, swa)).Fit(model, train, Val());
        Assert.Equal(1, swa.FirstSwaEpoch);   // int(0.5 * 4) = 2 -> from 0: 1

        var means = new List<double[]>();
        var vars = new List<double[]>();
        using (no_grad())
        {
            foreach (var (x, _) in train)
            {
                var h = model.BatchNormInput(x);
                means.Add(h.mean(new long[] { 0 }).to_type(ScalarType.Float64).data<double>().ToArray());
                vars.Add(h.var(0, unbiased: true).to_type(ScalarType.Float64).data<double>().ToArray());
            }
        }
        var bn = model.BatchNorm;
        var runningMean = bn.running_mean!.to_type(ScalarType.Float64).data<double>().ToArray();
        var runningVar = bn.running_var!.to_type(ScalarType.Float64).data<double>().ToArray();
        for (int i = 0; i < runningMean.Length; i++)
        {
            Assert.Equal(means.Average(m => m[i]), runningMean[i], 5);
            Assert.Equal(vars.Average(v => v[i]), runningVar[i], 4);
        }
        Assert.Equal(6, bn.num_batches_tracked!.item<long>());
        Assert.Equal(0.1, bn.momentum);   // restored
    }

    [Fact]
    public void SwaResumedAfterTwoEpochsEqualsFiveUninterruptedEpochsBitwise()
    {
        (Dictionary<string, float[]> Final, Dictionary<string, float[]> Average, long N, double Lr) Run(string dir, string? ckpt, int seed)
        {
            var swa = new StochasticWeightAveraging(0.03) { SwaEpochStart = 2, AnnealingEpochs = 2 };
            var checkpoint = new ModelCheckpoint { DirPath = dir, SaveTopK = -1, Filename = "{epoch}" };
            Seed.Everything(seed);
            var model = new TinyBatchNormNet { LrDecay = 0.8 };
            var trainer = new Trainer(Options(5, swa, checkpoint));
            trainer.Fit(model, Train(), Val(), ckptPath: ckpt);
            return (Bits(model.state_dict()), Bits(swa.AveragedParameters!), swa.NumAveraged, trainer.Optimizer!.ParamGroups.First().LearningRate);
        }
        var straight = Run(Path.Combine(_dir, "a"), null, 12);
        string epoch1 = Directory.GetFiles(Path.Combine(_dir, "a"), "epoch=1*.ckpt").Single();
        Assert.Contains("callbacks.StochasticWeightAveraging.average.fc1.weight", SafetensorsFile.Read(epoch1).Tensors.Select(t => t.Name));
        var resumed = Run(Path.Combine(_dir, "b"), epoch1, 98);
        BitwiseEqual(straight.Final, resumed.Final);   // the averaged parameters and the recomputed BatchNorm statistics
        BitwiseEqual(straight.Average, resumed.Average);
        Assert.Equal(straight.N, resumed.N);
        Assert.Equal(straight.Lr, resumed.Lr);
    }

    [Fact]
    public void SwaSettingsAreCheckedAsLightningChecksThem()
    {
        Assert.Throws<ArgumentException>(() => new StochasticWeightAveraging(-0.1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new StochasticWeightAveraging(0.1) { SwaEpochStart = 0 });
        Assert.Throws<ArgumentOutOfRangeException>(() => new StochasticWeightAveraging(0.1) { SwaEpochStart = 1.5 });
        Assert.Throws<LightningException>(() => new Trainer(Options(2, new StochasticWeightAveraging(0.1, 0.2))).Fit(new TinyBatchNormNet(), Train()));
    }
}
