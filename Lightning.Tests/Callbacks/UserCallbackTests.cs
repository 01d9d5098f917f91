using System.Collections.Generic;
using System.IO;
using Lightning.Tests.Training;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Lightning.Tests.Callbacks;

/// <summary>A user callback: hook methods found by name, and Ignite-style handlers, wired by the generator.</summary>
[Callback]
public partial class EventLog
{
    public List<string> Events { get; } = new();

    void OnFitStart(Trainer trainer) => Events.Add("FitStart");
    void OnTrainEpochStart(Trainer trainer) => Events.Add($"EpochStart:{trainer.CurrentEpoch}");
    void OnTrainBatchEnd(long batchIdx, Tensor? loss) => Events.Add($"BatchEnd:{batchIdx}:{(loss is null ? "null" : "loss")}");
    void OnFitEnd() => Events.Add("FitEnd");

    [Callback(TrainerEvent.EpochCompleted, Every = 2)]
    void EveryOtherEpoch(Trainer trainer) => Events.Add($"Every2Epochs:{trainer.CurrentEpoch + 1}");

    [Callback(TrainerEvent.IterationCompleted, Once = 5)]
    void FifthIteration(Trainer trainer) => Events.Add($"Once5:{trainer.Iteration}");

    [Callback(TrainerEvent.IterationStarted, Every = 4)]
    void EveryFourthIterationStart(Trainer trainer, long batchIdx) => Events.Add($"Every4Start:{trainer.Iteration + 1}:{batchIdx}");

    [Callback(TrainerEvent.Started)]
    [Callback(TrainerEvent.Completed)]
    void StartedOrCompleted(TinyClassifier model) => Events.Add("StartedOrCompleted:" + model.GetType().Name);
}

/// <summary>A module with its own hook method and a filtered handler.</summary>
[LightningModule]
public partial class SelfReporting() : Module<Tensor, Tensor>(nameof(SelfReporting))
{
    private readonly TorchSharp.Modules.Linear fc = Linear(4, 3);

    public List<string> Events { get; } = new();

    public override Tensor forward(Tensor x) => fc.forward(x);

    [TrainingStep]
    Tensor TrainingStep((Tensor X, Tensor Y) batch) => functional.cross_entropy(forward(batch.X), batch.Y);

    [ConfigureOptimizers]
    Optimization ConfigureOptimizers() => torch.optim.SGD(parameters(), 0.1);

    void OnTrainEpochEnd(Trainer trainer, SelfReporting self) => Events.Add($"EpochEnd:{trainer.CurrentEpoch}:{ReferenceEquals(self, this)}");

    [Callback(TrainerEvent.EpochCompleted, Once = 2)]
    void SecondEpoch() => Events.Add("Once2");
}

[Collection("Training")]
public sealed class UserCallbackTests
{
    private static TrainerOptions Options(int epochs, params ICallback[] callbacks) => new()
    {
        MaxEpochs = epochs, Output = TextWriter.Null, Threads = 1, EnableCheckpointing = false, NumSanityValSteps = 0, Callbacks = callbacks, Seed = 1,
    };

    [Fact]
    public void HookMethodsAndFilteredHandlersFireOnExactlyTheRightEvents()
    {
        var log = new EventLog();
        new Trainer(Options(4, log)).Fit(new TinyClassifier(), SyntheticData.Loader(48, 1, 16, true));   // 3 batches per epoch
        var expected = new List<string> { "FitStart", "StartedOrCompleted:TinyClassifier" };
        for (int epoch = 0; epoch < 4; epoch++)
        {
            expected.Add($"EpochStart:{epoch}");
            for (int b = 0; b < 3; b++)
            {
                int iteration = epoch * 3 + b + 1;
                if (iteration % 4 == 0) expected.Add($"Every4Start:{iteration}:{b}");
                expected.Add($"BatchEnd:{b}:loss");
                if (iteration == 5) expected.Add("Once5:5");
            }
            if ((epoch + 1) % 2 == 0) expected.Add($"Every2Epochs:{epoch + 1}");
        }
        expected.Add("StartedOrCompleted:TinyClassifier");
        expected.Add("FitEnd");
        Assert.Equal(expected, log.Events);
    }

    [Fact]
    public void AModuleClassParameterIsCheckedAtRunTime()
    {
        var e = Assert.Throws<LightningException>(() => new Trainer(Options(1, new EventLog())).Fit(new SelfReporting(), SyntheticData.Loader(32, 1, 16, true)));
        Assert.Contains("EventLog.StartedOrCompleted takes a TinyClassifier, but the trainer is running a Lightning.Tests.Callbacks.SelfReporting", e.Message);
    }

    [Fact]
    public void AModulesOwnHooksRunAfterTheCallbacks()
    {
        var model = new SelfReporting();
        new Trainer(Options(3)).Fit(model, SyntheticData.Loader(32, 1, 16, true));
        Assert.Equal(new[] { "EpochEnd:0:True", "EpochEnd:1:True", "Once2", "EpochEnd:2:True" }, model.Events);
    }
}
