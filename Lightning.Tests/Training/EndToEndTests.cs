using System;
using System.IO;
using System.Linq;
using Lightning;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Lightning.Tests.Training;

/// <summary>Training through generated code on tiny synthetic data: it learns, it is repeatable, and the trainer's limits hold.</summary>
[Collection("Training")]
public class EndToEndTests
{
    private static TrainerOptions Quiet(TrainerOptions? options = null) =>
        (options ?? new TrainerOptions()) with { Output = TextWriter.Null, Threads = 1 };

    [Fact]
    public void LossFallsAndAccuracyRises()
    {
        Seed.Everything(1);
        var model = new TinyClassifier();
        var trainer = new Trainer(Quiet(new TrainerOptions { MaxEpochs = 6, Seed = 1 }));
        trainer.Fit(model, SyntheticData.Loader(480, seed: 1, batchSize: 32, shuffle: true), SyntheticData.Loader(160, seed: 2, batchSize: 32, shuffle: false));

        Assert.Equal(6, trainer.History.Count);
        var first = trainer.History[0];
        var last = trainer.History[^1];
        Assert.True(last["loss"] < first["loss"] * 0.5, $"training loss went from {first["loss"]} to {last["loss"]}");
        Assert.True(last["val_loss"] < first["val_loss"], $"validation loss went from {first["val_loss"]} to {last["val_loss"]}");
        Assert.True(last["val_acc"] > 0.9, $"validation accuracy is {last["val_acc"]}");
        Assert.True(last["acc"] > first["acc"]);
        Assert.Equal(last["val_acc"], trainer.CallbackMetrics["val_acc"]);
        Assert.Equal(6 * 15, trainer.GlobalStep);
    }

    [Fact]
    public void SameSeedGivesBitwiseIdenticalWeights()
    {
        var a = TrainWithSeed(7);
        var b = TrainWithSeed(7);
        var c = TrainWithSeed(8);
        Assert.Equal(a.Keys.OrderBy(k => k), b.Keys.OrderBy(k => k));
        foreach (var key in a.Keys) Assert.Equal(a[key], b[key]);
        Assert.Contains(a.Keys, key => !a[key].SequenceEqual(c[key]));
    }

    private static System.Collections.Generic.Dictionary<string, float[]> TrainWithSeed(long seed)
    {
        Seed.Everything(seed);
        var model = new TinyClassifier();
        new Trainer(Quiet(new TrainerOptions { MaxEpochs = 2, Seed = seed })).Fit(model, SyntheticData.Loader(256, seed: 3, batchSize: 32, shuffle: true));
        return model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.data<float>().ToArray());
    }

    [Fact]
    public void BatchLimitsAndSanityCheckRunExactlyTheRequestedBatches()
    {
        var model = new TinyClassifier();
        var trainer = new Trainer(Quiet(new TrainerOptions { MaxEpochs = 2, LimitTrainBatches = 3, LimitValBatches = 4, NumSanityValSteps = 2 }));
        trainer.Fit(model, SyntheticData.Loader(320, 1, 32, true), SyntheticData.Loader(320, 2, 32, false));
        Assert.Equal(6, model.TrainingSteps);
        Assert.Equal(2 + 2 * 4, model.ValidationSteps);
        Assert.Equal(2, trainer.History.Count);
    }

    [Fact]
    public void FractionalLimitUsesAShareOfTheLoader()
    {
        var model = new TinyClassifier();
        new Trainer(Quiet(new TrainerOptions { MaxEpochs = 1, LimitTrainBatches = 0.25, NumSanityValSteps = 0 }))
            .Fit(model, SyntheticData.Loader(320, 1, 32, true));
        Assert.Equal(2, model.TrainingSteps);   // floor(10 * 0.25)
    }

    [Fact]
    public void MaxStepsStopsInTheMiddleOfAnEpoch()
    {
        var model = new TinyClassifier();
        var trainer = new Trainer(Quiet(new TrainerOptions { MaxSteps = 5 }));
        trainer.Fit(model, SyntheticData.Loader(128, 1, 32, true));
        Assert.Equal(5, trainer.GlobalStep);
        Assert.Equal(5, model.TrainingSteps);
        Assert.Equal(2, trainer.History.Count);
    }

    [Fact]
    public void FastDevRunRunsNBatchesOfEachLoopOnce()
    {
        var model = new TinyClassifier();
        var trainer = new Trainer(Quiet(new TrainerOptions { FastDevRun = 2, MaxEpochs = 10 }));
        trainer.Fit(model, SyntheticData.Loader(320, 1, 32, true), SyntheticData.Loader(320, 2, 32, false));
        Assert.Equal(2, model.TrainingSteps);
        Assert.Equal(2, model.ValidationSteps);
        Assert.Single(trainer.History);
    }

    [Fact]
    public void RecordBatchesTrainAndANullLossSkipsTheOptimizerStep()
    {
        Seed.Everything(5);
        var data = SyntheticData.Regression(batches: 8, batchSize: 16, seed: 5);
        var model = new TinyRegressor();
        var trainer = new Trainer(Quiet(new TrainerOptions { MaxEpochs = 30 }));
        trainer.Fit(model, data);
        Assert.True(trainer.History[^1]["mse"] < 0.01, $"mse is {trainer.History[^1]["mse"]}");
        var w = model.Layer.weight!.data<float>().ToArray();
        Assert.Equal(1f, w[0], 1);
        Assert.Equal(-2f, w[1], 1);
        Assert.Equal(0.5f, w[2], 1);

        var skipping = new TinyRegressor { SkipOddBatches = true };
        var trainer2 = new Trainer(Quiet(new TrainerOptions { MaxEpochs = 2 }));
        trainer2.Fit(skipping, data);
        Assert.Equal(8, trainer2.GlobalStep);
        Assert.Equal(8, skipping.OptimizerStepsSkipped);
    }

    [Fact]
    public void ManualOptimizationTrainsThroughOptimizersAndManualBackward()
    {
        Seed.Everything(4);
        var model = new ManualClassifier();
        var trainer = new Trainer(Quiet(new TrainerOptions { MaxEpochs = 5 }));
        trainer.Fit(model, SyntheticData.Loader(320, 1, 32, true));
        Assert.True(trainer.History[^1]["loss"] < trainer.History[0]["loss"] * 0.7,
            $"loss went from {trainer.History[0]["loss"]} to {trainer.History[^1]["loss"]}");
        Assert.Equal(5 * 10, trainer.GlobalStep);

        var limited = new Trainer(Quiet(new TrainerOptions { MaxSteps = 3 }));
        limited.Fit(new ManualClassifier(), SyntheticData.Loader(320, 1, 32, true));
        Assert.Equal(3, limited.GlobalStep);
    }

    [Fact]
    public void TestAndPredictUseTheTrainedModel()
    {
        Seed.Everything(2);
        var model = new TinyClassifier();
        var trainer = new Trainer(Quiet(new TrainerOptions { MaxEpochs = 5 }));
        trainer.Fit(model, SyntheticData.Loader(480, 1, 32, true));

        var test = trainer.Test(model, SyntheticData.Loader(100, 9, 25, false));
        Assert.True(test["test_acc"] > 0.9, $"test accuracy {test["test_acc"]}");
        Assert.Equal(1.0, test["test_batches"]);

        var predictions = trainer.Predict(model, SyntheticData.Loader(100, 9, 25, false));
        Assert.Equal(4, predictions.Count);
        Assert.All(predictions, p => Assert.Equal(new long[] { 25 }, p.shape));
        Assert.True(model.training == false || model.training, "mode is restored without throwing");
        foreach (var p in predictions) p.Dispose();
    }

    [Fact]
    public void HyperparametersRoundTripAndRebuildTheModule()
    {
        var model = new TinyClassifier(hidden: 5) { LearningRate = 0.1, Optimizer = "sgd" };
        var hparams = model.Hparams;
        Assert.Equal(new TinyClassifier.HParams { Hidden = 5, LearningRate = 0.1, Optimizer = "sgd" }, hparams);

        var json = hparams.ToJson();
        Assert.Contains("\"learning_rate\": 0.1", json);
        Assert.Equal(hparams, TinyClassifier.HParams.FromJson(json));
        Assert.Equal(new TinyClassifier.HParams { Hidden = 16 }, TinyClassifier.HParams.FromJson("{}"));

        var rebuilt = TinyClassifier.Create(hparams with { Hidden = 7 });
        Assert.Equal(7, rebuilt.Hparams.Hidden);
        Assert.Equal("sgd", rebuilt.Optimizer);
        ((ILightningModule)rebuilt).RegisterComponentsOnce();
        Assert.Equal(4 * 7 + 7 + 7 * 3 + 3, rebuilt.parameters().Sum(p => p.numel()));

        var table = hparams.ToTable().Split('\n');
        Assert.StartsWith("Hyperparameter", table[0]);
        Assert.Contains("hidden units", table.Single(l => l.StartsWith("hidden ", StringComparison.Ordinal)));
        // Every row has the header's three columns (name | value | description).
        Assert.All(table.Where((_, i) => i != 1), l => Assert.Equal(2, l.Count(c => c == '|')));
        Assert.Equal("Description", table[0].Split('|')[2].Trim());

        var bad = Assert.Throws<LightningException>(() => TinyClassifier.HParams.FromJson("{\"hidden\": \"many\"}", "run.json"));
        Assert.Contains("run.json", bad.Message);
        Assert.Contains("'hidden'", bad.Message);
        var unknown = Assert.Throws<LightningException>(() => TinyClassifier.HParams.FromJson("{\"hiden\": 3}", "run.json"));
        Assert.Contains("'hiden'", unknown.Message);
        Assert.Contains("hidden, learning_rate, optimizer", unknown.Message);
    }

    [Fact]
    public void AskingForCudaWithoutCudaIsAClearError()
    {
        var trainer = new Trainer(Quiet(new TrainerOptions { Device = "cuda", MaxEpochs = 1 }));
        var e = Assert.Throws<LightningException>(() => trainer.Fit(new TinyClassifier(), SyntheticData.Loader(64, 1, 32, true)));
        Assert.Contains("TrainerOptions.Device", e.Message);
        Assert.Contains("CUDA is not available", e.Message);
    }

    [Fact]
    public void ProgressOutputShowsSummaryAndOneLinePerEpoch()
    {
        var output = new StringWriter();
        var trainer = new Trainer(new TrainerOptions { MaxEpochs = 2, Output = output, Threads = 1 });
        trainer.Fit(new TinyClassifier(), SyntheticData.Loader(128, 1, 32, true), SyntheticData.Loader(64, 2, 32, false));
        var text = output.ToString();
        Assert.Contains("Trainable params", text);
        Assert.Contains("learning_rate", text);
        var epochLines = text.Split('\n').Where(l => l.StartsWith("Epoch ", StringComparison.Ordinal) && l.Contains(" time ")).ToList();
        Assert.Equal(2, epochLines.Count);
        // Epochs from 0 and the last epoch's number, as Lightning's RichProgressBar._get_train_description
        // (src/lightning/pytorch/callbacks/progress/rich_progress.py: f"Epoch {current_epoch}/{max_epochs - 1}").
        Assert.StartsWith("Epoch 0/1 loss ", epochLines[0]);
        Assert.StartsWith("Epoch 1/1 loss ", epochLines[1]);
        Assert.Contains(" val_loss ", epochLines[0]);
        Assert.True(epochLines[0].IndexOf(" val_loss ", StringComparison.Ordinal) < epochLines[0].IndexOf(" acc ", StringComparison.Ordinal));
    }
}
