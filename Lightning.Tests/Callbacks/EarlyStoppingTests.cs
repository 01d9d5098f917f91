using System.IO;
using Lightning.Callbacks;
using Lightning.Tests.Training;
using Xunit;

namespace Lightning.Tests.Callbacks;

/// <summary>EarlyStopping on scripted metric sequences: it stops after exactly the right epoch.</summary>
[Collection("Training")]
public class EarlyStoppingTests
{
    /// <summary>Fits a ScriptedScore for up to 10 epochs; returns the epochs run and the callback.</summary>
    private static (int Epochs, EarlyStopping Callback) Run(EarlyStopping callback, params double[] script)
    {
        var trainer = new Trainer(new TrainerOptions
        {
            MaxEpochs = 10, NumSanityValSteps = 0, Output = TextWriter.Null, Threads = 1, Callbacks = new Callback[] { callback },
        });
        trainer.Fit(new ScriptedScore(script), SyntheticData.Loader(64, 1, 32, true), SyntheticData.Loader(64, 2, 32, false));
        return (trainer.History.Count, callback);
    }

    [Fact]
    public void StopsAfterPatienceChecksWithoutImprovement()
    {
        var (epochs, es) = Run(new EarlyStopping { Monitor = "val_score", Patience = 3 }, 5, 4, 4, 4, 4, 1);
        Assert.Equal(5, epochs);            // improvements at epochs 0 and 1, none at 2, 3, 4: stop after epoch 4
        Assert.Equal(4, es.StoppedEpoch);
        Assert.Equal(4, es.BestScore);
        Assert.Contains("did not improve", es.Reason);
    }

    [Fact]
    public void TheSeedsSettingsWork()
    {
        // EarlyStopping(monitor='val_acc', patience=3, mode='max') with a later, never-reached improvement.
        var (epochs, es) = Run(new EarlyStopping { Monitor = "val_score", Patience = 3, Mode = MonitorMode.Max }, 0.80, 0.85, 0.84, 0.83, 0.82, 0.90);
        Assert.Equal(5, epochs);
        Assert.Equal(0.85, es.BestScore);
    }

    [Fact]
    public void ChangesSmallerThanMinDeltaAreNotImprovements()
    {
        var (epochs, _) = Run(new EarlyStopping { Monitor = "val_score", Patience = 2, MinDelta = 0.1 }, 5, 4.95, 4.9, 4.85);
        Assert.Equal(3, epochs);
    }

    [Fact]
    public void ImprovementResetsTheWaitCount()
    {
        var (epochs, _) = Run(new EarlyStopping { Monitor = "val_score", Patience = 2 }, 5, 5, 3, 3, 3, 3);
        Assert.Equal(5, epochs);            // wait 1 at epoch 1, reset at 2, then 1, 2: stop after epoch 4
    }

    [Fact]
    public void ANonFiniteValueStopsAtOnce()
    {
        var (epochs, es) = Run(new EarlyStopping { Monitor = "val_score", Patience = 5 }, 1, double.NaN, 0.5);
        Assert.Equal(2, epochs);
        Assert.Contains("not finite", es.Reason);
    }

    [Fact]
    public void ReachingTheStoppingThresholdStops()
    {
        var (epochs, _) = Run(new EarlyStopping { Monitor = "val_score", Mode = MonitorMode.Max, StoppingThreshold = 0.9, Patience = 5 }, 0.8, 0.95, 0.96);
        Assert.Equal(2, epochs);
    }

    [Fact]
    public void PassingTheDivergenceThresholdStops()
    {
        var (epochs, es) = Run(new EarlyStopping { Monitor = "val_score", DivergenceThreshold = 10, Patience = 5 }, 5, 12, 1);
        Assert.Equal(2, epochs);
        Assert.Contains("divergence threshold", es.Reason);
    }

    [Fact]
    public void AMetricThatIsNotLoggedIsAClearError()
    {
#pragma warning disable LTN0013 // the compile-time check catches this typo; this test checks the run-time error
        var e = Assert.Throws<LightningException>(() => Run(new EarlyStopping { Monitor = "val_scor" }, 1, 2));
#pragma warning restore LTN0013
        Assert.Contains("Monitor = \"val_scor\"", e.Message);
        Assert.Contains("val_score", e.Message);
    }
}
