using System;
using System.Collections.Generic;
using System.Linq;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Lightning.Tests.Runtime;

public sealed class MetricStoreTests
{
    /// <summary>Runs one simulated step as the trainer does: BeginStep, then the body inside its own dispose scope.</summary>
    private static void Step(MetricStore store, long batchSize, Action body)
    {
        store.BeginStep(batchSize);
        using var scope = torch.NewDisposeScope();
        body();
    }

    private static Dictionary<string, double> Means(MetricStore store) =>
        store.RunMeans().ToDictionary(kv => kv.Key, kv => kv.Value);

    private static List<KeyValuePair<string, double>> Bar(MetricStore store)
    {
        var values = new List<KeyValuePair<string, double>>();
        store.ProgressBarValues(values);
        return values;
    }

    [Fact]
    public void ProgressBarShowsAValueLoggedInAnEarlierStep()
    {
        var store = new MetricStore("loss", "acc");
        store.BeginRun(Stage.Fit, training: true);
        Step(store, 4, () =>
        {
            store.Log(0, "loss", torch.tensor(1.0f), progBar: true);
            store.Log(1, "acc", torch.tensor(0.5f), progBar: true);
        });
        Step(store, 4, () => store.Log(0, "loss", torch.tensor(2.0f), progBar: true));

        var bar = Bar(store).ToDictionary(kv => kv.Key, kv => kv.Value);
        Assert.Equal(2.0, bar["loss"]);
        Assert.Equal(0.5, bar["acc"]);
    }

    [Fact]
    public void TensorMeanIsWeightedByBatchSize()
    {
        var store = new MetricStore("loss");
        store.BeginRun(Stage.Fit, training: true);
        Step(store, 2, () => store.Log(0, "loss", torch.tensor(1.0f), progBar: false, onEpoch: true));
        Step(store, 6, () => store.Log(0, "loss", torch.tensor(3.0f), progBar: false, onEpoch: true));

        var means = Means(store);
        Assert.Equal(2.5, means["loss"], 12);
    }

    [Fact]
    public void HostMeanIsWeightedByBatchSize()
    {
        var store = new MetricStore("acc");
        store.BeginRun(Stage.Fit, training: true);
        Step(store, 2, () => store.Log(0, "acc", 1.0, progBar: false, onEpoch: true));
        Step(store, 6, () => store.Log(0, "acc", 3.0, progBar: false, onEpoch: true));

        Assert.Equal(2.5, Means(store)["acc"], 12);
    }

    [Fact]
    public void TensorAndHostValuesOfOneKeyMix()
    {
        var store = new MetricStore("loss");
        store.BeginRun(Stage.Fit, training: true);
        Step(store, 2, () => store.Log(0, "loss", torch.tensor(1.0), progBar: false, onEpoch: true));
        Step(store, 6, () => store.Log(0, "loss", 3.0, progBar: false, onEpoch: true));

        Assert.Equal(2.5, Means(store)["loss"], 12);
    }

    [Fact]
    public void IntegerAndOneElementTensorsAreAccepted()
    {
        var store = new MetricStore();
        store.BeginRun(Stage.Validate, training: false);
        Step(store, 1, () =>
        {
            store.Log(-1, "correct", torch.tensor(3L), progBar: false);
            store.Log(-1, "shaped", torch.tensor(new float[] { 4f }), progBar: false);   // shape [1]
        });
        Step(store, 1, () =>
        {
            store.Log(-1, "correct", torch.tensor(5L), progBar: false);
            store.Log(-1, "shaped", torch.ones(1, 1) * 6f, progBar: false);              // shape [1, 1]
        });

        var means = Means(store);
        Assert.Equal(4.0, means["correct"], 12);
        Assert.Equal(5.0, means["shaped"], 12);
    }

    [Fact]
    public void ConstantSlotsAndDynamicKeysAreKeptApart()
    {
        var store = new MetricStore("loss", "acc");
        store.BeginRun(Stage.Fit, training: true);
        Step(store, 1, () =>
        {
            store.Log(0, "loss", 1.0, progBar: false, onStep: false, onEpoch: true);
            store.Log(-1, "lr", 0.1, progBar: false, onStep: false, onEpoch: true);
            store.Log(1, "acc", 0.5, progBar: false, onStep: false, onEpoch: true);
        });
        Step(store, 1, () =>
        {
            store.Log(0, "loss", torch.tensor(3.0), progBar: false, onStep: false, onEpoch: true);
            store.Log(-1, "lr", 0.3, progBar: false, onStep: false, onEpoch: true);
            store.Log(1, "acc", 0.7, progBar: false, onStep: false, onEpoch: true);
        });

        var means = store.RunMeans();
        Assert.Equal(new[] { "loss", "lr", "acc" }, means.Select(m => m.Key));   // order of first log in the run
        Assert.Equal(2.0, means[0].Value, 12);
        Assert.Equal(0.2, means[1].Value, 12);
        Assert.Equal(0.6, means[2].Value, 12);
    }

    [Fact]
    public void DynamicKeyWithAConstantNameSharesItsSlot()
    {
        var store = new MetricStore("loss");
        store.BeginRun(Stage.Fit, training: true);
        Step(store, 1, () => store.Log(0, "loss", 1.0, progBar: false, onStep: false, onEpoch: true));
        Step(store, 1, () => store.Log(-1, "loss", 3.0, progBar: false, onStep: false, onEpoch: true));

        var mean = Assert.Single(store.RunMeans());
        Assert.Equal("loss", mean.Key);
        Assert.Equal(2.0, mean.Value, 12);
    }

    [Fact]
    public void KeysNeverLoggedAreNotReported()
    {
        var store = new MetricStore("loss", "acc");
        store.BeginRun(Stage.Fit, training: true);
        Step(store, 4, () => store.Log(1, "acc", 0.25, progBar: true));

        var mean = Assert.Single(store.RunMeans());
        Assert.Equal("acc", mean.Key);
    }

    [Fact]
    public void BeginRunStartsFromZero()
    {
        var store = new MetricStore("loss", "acc");
        store.BeginRun(Stage.Fit, training: true);
        Step(store, 2, () =>
        {
            store.Log(0, "loss", torch.tensor(10.0f), progBar: true, onStep: false, onEpoch: true);
            store.Log(1, "acc", 0.9, progBar: false, onStep: false, onEpoch: true);
            store.Log(-1, "extra", 7.0, progBar: false, onStep: false, onEpoch: true);
        });
        Assert.Equal(10.0, Means(store)["loss"], 12);

        store.BeginRun(Stage.Fit, training: true);
        Assert.Empty(store.RunMeans());
        Assert.False(store.HasProgressBarValues);

        Step(store, 3, () =>
        {
            store.Log(1, "acc", 0.5, progBar: false, onStep: false, onEpoch: true);
            store.Log(0, "loss", torch.tensor(1.0f), progBar: false, onStep: false, onEpoch: true);
        });
        var means = store.RunMeans();
        Assert.Equal(new[] { "acc", "loss" }, means.Select(m => m.Key));   // "extra" belongs to the old run
        Assert.Equal(0.5, means[0].Value, 12);
        Assert.Equal(1.0, means[1].Value, 12);
        Assert.False(store.HasProgressBarValues);   // progBar is per run
    }

    [Fact]
    public void BeginRunRecordsStageAndMode()
    {
        var store = new MetricStore();
        store.BeginRun(Stage.Test, training: false);
        Assert.Equal(Stage.Test, store.CurrentStage);
        Assert.False(store.IsTraining);
        store.BeginRun(Stage.Fit, training: true);
        Assert.Equal(Stage.Fit, store.CurrentStage);
        Assert.True(store.IsTraining);
    }

    [Fact]
    public void NonScalarTensorIsRejectedWithTheKey()
    {
        var store = new MetricStore("loss");
        store.BeginRun(Stage.Fit, training: true);
        store.BeginStep(2);
        using var scope = torch.NewDisposeScope();
        var e = Assert.Throws<LightningException>(() => store.Log(0, "loss", torch.ones(2, 3), progBar: true));
        Assert.Contains("\"loss\"", e.Message);
        Assert.Contains("[2, 3]", e.Message);
        var d = Assert.Throws<LightningException>(() => store.Log(-1, "per_class_acc", torch.zeros(4), progBar: false));
        Assert.Contains("per_class_acc", d.Message);
    }

    [Fact]
    public void NullTensorIsRejectedWithTheKey()
    {
        var store = new MetricStore("loss");
        store.BeginRun(Stage.Fit, training: true);
        store.BeginStep(1);
        var e = Assert.Throws<ArgumentNullException>(() => store.Log(0, "loss", (Tensor)null!, progBar: false));
        Assert.Contains("loss", e.Message);
    }

    [Fact]
    public void TrainingProgressBarShowsTheLastStep()
    {
        var store = new MetricStore("loss", "acc");
        store.BeginRun(Stage.Fit, training: true);
        Step(store, 2, () =>
        {
            store.Log(0, "loss", torch.tensor(1.0f), progBar: true, onEpoch: true);
            store.Log(1, "acc", 0.25, progBar: true, onEpoch: true);
            var bar = Bar(store);
            Assert.Equal(new[] { "loss", "acc" }, bar.Select(b => b.Key));
            Assert.Equal(1.0, bar[0].Value, 12);
            Assert.Equal(0.25, bar[1].Value, 12);
        });
        Step(store, 6, () =>
        {
            store.Log(0, "loss", torch.tensor(3.0f), progBar: true, onEpoch: true);
            store.Log(1, "acc", 0.75, progBar: true, onEpoch: true);
            var bar = Bar(store);
            Assert.Equal(3.0, bar[0].Value, 12);
            Assert.Equal(0.75, bar[1].Value, 12);
        });
        Assert.Equal(2.5, Means(store)["loss"], 12);
    }

    [Fact]
    public void EvaluationProgressBarShowsTheRunningMean()
    {
        var store = new MetricStore("val_loss", "val_acc");
        store.BeginRun(Stage.Validate, training: false);
        Step(store, 2, () =>
        {
            store.Log(0, "val_loss", torch.tensor(1.0f), progBar: true);
            store.Log(1, "val_acc", 1.0, progBar: true);
            var bar = Bar(store);
            Assert.Equal(1.0, bar[0].Value, 12);
            Assert.Equal(1.0, bar[1].Value, 12);
        });
        Step(store, 6, () =>
        {
            store.Log(0, "val_loss", torch.tensor(3.0f), progBar: true);
            store.Log(1, "val_acc", 3.0, progBar: true);
            var bar = Bar(store);
            Assert.Equal(2.5, bar[0].Value, 12);
            Assert.Equal(2.5, bar[1].Value, 12);
        });
    }

    [Fact]
    public void OnlyProgressBarKeysAreShown()
    {
        var store = new MetricStore("loss", "acc");
        store.BeginRun(Stage.Fit, training: true);
        Step(store, 1, () =>
        {
            store.Log(0, "loss", torch.tensor(0.5f), progBar: false);
            Assert.False(store.HasProgressBarValues);
            Assert.Empty(Bar(store));

            store.Log(1, "acc", 0.9, progBar: true);
            store.Log(-1, "lr", 0.01, progBar: false);
            store.Log(-1, "grad_norm", 2.0, progBar: true);
            Assert.True(store.HasProgressBarValues);
            Assert.Equal(new[] { "acc", "grad_norm" }, Bar(store).Select(b => b.Key));
        });
    }

    [Fact]
    public void ProgressBarFlagStaysOnceAnyLogAsksForIt()
    {
        var store = new MetricStore("loss");
        store.BeginRun(Stage.Fit, training: true);
        Step(store, 1, () => store.Log(0, "loss", 1.0, progBar: true));
        Step(store, 1, () =>
        {
            store.Log(0, "loss", 2.0, progBar: false);
            var shown = Assert.Single(Bar(store));
            Assert.Equal(2.0, shown.Value, 12);
        });
    }

    [Fact]
    public void EpochMeansSurviveTheStepScopes()
    {
        // The running sums must outlive every step's dispose scope, across many steps.
        var store = new MetricStore("loss");
        store.BeginRun(Stage.Fit, training: true);
        for (int i = 1; i <= 10; i++)
        {
            int v = i;
            Step(store, 1, () => store.Log(0, "loss", torch.tensor((float)v), progBar: true, onEpoch: true));
        }
        Assert.Equal(5.5, Means(store)["loss"], 12);

        store.BeginRun(Stage.Validate, training: false);
        Step(store, 1, () => store.Log(0, "loss", torch.tensor(2.0f), progBar: true, onEpoch: true));
        Assert.Equal(2.0, Means(store)["loss"], 12);
    }

    [Fact]
    public void LightningDefaultsLogTrainingStepsPerStepAndEvaluationPerEpoch()
    {
        var store = new MetricStore("loss");
        store.BeginRun(Stage.Fit, training: true);
        Step(store, 2, () => store.Log(0, "loss", torch.tensor(1.0f), progBar: false));
        Step(store, 2, () => store.Log(0, "loss", torch.tensor(3.0f), progBar: false));
        Assert.Equal(new Dictionary<string, double> { ["loss"] = 3.0 }, Means(store));   // the last step's value

        store.BeginRun(Stage.Validate, training: false);
        Step(store, 2, () => store.Log(-1, "val_loss", torch.tensor(1.0f), progBar: false));
        Step(store, 2, () => store.Log(-1, "val_loss", torch.tensor(3.0f), progBar: false));
        Assert.Equal(new Dictionary<string, double> { ["val_loss"] = 2.0 }, Means(store));
    }

    [Fact]
    public void StepAndEpochTogetherGiveStepAndEpochNames()
    {
        var store = new MetricStore("loss");
        store.BeginRun(Stage.Fit, training: true);
        Step(store, 1, () => store.Log(0, "loss", torch.tensor(1.0f), progBar: false, onStep: true, onEpoch: true));
        Step(store, 1, () => store.Log(0, "loss", torch.tensor(5.0f), progBar: false, onStep: true, onEpoch: true));
        var step = new Dictionary<string, double>();
        store.StepValues(step);
        Assert.Equal(new Dictionary<string, double> { ["loss_step"] = 5.0 }, step);
        Assert.Equal(new Dictionary<string, double> { ["loss"] = 3.0, ["loss_epoch"] = 3.0, ["loss_step"] = 5.0 }, Means(store));
    }

    [Theory]
    [InlineData(MetricReduction.Sum, 9.0)]
    [InlineData(MetricReduction.Max, 5.0)]
    [InlineData(MetricReduction.Min, 1.0)]
    [InlineData(MetricReduction.Mean, 3.0)]
    public void ReduceSumMaxMinOverTheEpoch(MetricReduction reduce, double expected)
    {
        var store = new MetricStore();
        store.BeginRun(Stage.Validate, training: false);
        Step(store, 4, () => store.Log(-1, "t", torch.tensor(1.0f), progBar: false, reduce: reduce));
        Step(store, 4, () => store.Log(-1, "t", torch.tensor(5.0f), progBar: false, reduce: reduce));
        Step(store, 4, () => store.Log(-1, "t", 3.0, progBar: false, reduce: reduce));
        Assert.Equal(expected, Means(store)["t"], 12);
    }

    [Fact]
    public void BadReduceOrNowhereToGoIsAClearError()
    {
        var store = new MetricStore();
        store.BeginRun(Stage.Validate, training: false);
        var e = Assert.Throws<LightningException>(() => store.Log(-1, "x", 1.0, progBar: false, reduce: (MetricReduction)9));
        Assert.Contains("Log(\"x\"): reduce has the unknown value 9", e.Message);
        store.BeginRun(Stage.Validate, training: false);
        e = Assert.Throws<LightningException>(() => store.Log(-1, "y", 1.0, progBar: false, onStep: false, onEpoch: false));
        Assert.Contains("onStep and onEpoch are both false", e.Message);
    }
}
