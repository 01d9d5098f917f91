using System;
using Lightning;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Lightning.Tests.Training;

/// <summary>A small classifier over 4 features and 3 classes, trained through generated code in the tests.</summary>
[LightningModule]
public partial class TinyClassifier([Hyperparameter(Description = "hidden units", Min = 1, Max = 256)] int hidden = 16)
    : Module<Tensor, Tensor>(nameof(TinyClassifier))
{
    [Hyperparameter(Min = 0)] public double LearningRate { get; init; } = 0.05;
    [Hyperparameter(Choices = new[] { "adam", "sgd" })] public string Optimizer { get; init; } = "adam";
    [Hyperparameter(Description = "learning-rate decay per epoch; 1 for none", Min = 0, Max = 1)] public double LrDecay { get; init; } = 1.0;
    [Hyperparameter(Description = "scheduler interval: epoch or step")] public Interval LrInterval { get; init; } = Interval.Epoch;
    [Hyperparameter(Description = "scheduler frequency", Min = 1)] public int LrFrequency { get; init; } = 1;
    [Hyperparameter(Description = "dropout after the hidden layer", Min = 0, Max = 1)] public double Dropout { get; init; } = 0.0;

    private readonly Linear fc1 = Linear(4, hidden);
    private readonly Linear fc2 = Linear(hidden, 3);

    /// <summary>Training steps taken, to check limits.</summary>
    public int TrainingSteps { get; private set; }

    /// <summary>Validation steps taken.</summary>
    public int ValidationSteps { get; private set; }

    public override Tensor forward(Tensor x)
    {
        var h = functional.relu(fc1.forward(x));
        if (Dropout > 0) h = functional.dropout(h, Dropout, training);
        return fc2.forward(h);
    }

    [TrainingStep]
    private Tensor TrainingStep((Tensor X, Tensor Y) batch, long batchIdx)
    {
        TrainingSteps++;
        var logits = forward(batch.X);
        var loss = functional.cross_entropy(logits, batch.Y);
        Log("loss", loss, progBar: true, onEpoch: true);
        Log("acc", logits.argmax(1).eq(batch.Y).to_type(ScalarType.Float32).mean(), onEpoch: true);
        return loss;
    }

    [ValidationStep]
    private void ValidationStep((Tensor X, Tensor Y) batch, long batchIdx)
    {
        ValidationSteps++;
        var logits = forward(batch.X);
        Log("val_loss", functional.cross_entropy(logits, batch.Y));
        Log("val_acc", logits.argmax(1).eq(batch.Y).to_type(ScalarType.Float32).mean(), progBar: true);
    }

    [TestStep]
    private void TestStep((Tensor X, Tensor Y) batch, long batchIdx)
    {
        var logits = forward(batch.X);
        Log("test_acc", logits.argmax(1).eq(batch.Y).to_type(ScalarType.Float32).mean());
        Log("test_batches", 1.0);
    }

    [PredictStep]
    private Tensor PredictStep((Tensor X, Tensor Y) batch, long batchIdx) => forward(batch.X).argmax(1);

    [ConfigureOptimizers]
    private Optimization ConfigureOptimizers()
    {
        torch.optim.Optimizer optimizer = Optimizer == "sgd"
            ? torch.optim.SGD(parameters(), learningRate: LearningRate)
            : torch.optim.Adam(parameters(), lr: LearningRate);
        return new Optimization(optimizer, LrDecay < 1 ? torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma: LrDecay) : null)
        {
            Interval = LrInterval,
            Frequency = LrFrequency,
        };
    }
}

/// <summary>A batch as a record, to check the generated device transfer for records.</summary>
public sealed record RegressionBatch(Tensor Features, Tensor Target);

/// <summary>Linear regression on a record batch; its training step skips odd batches by returning null.</summary>
[LightningModule]
public sealed partial class TinyRegressor : Module<Tensor, Tensor>
{
    private readonly Linear fc = Linear(3, 1);

    public TinyRegressor() : base(nameof(TinyRegressor)) => RegisterComponents();

    [Hyperparameter] public bool SkipOddBatches { get; init; } = false;

    public int OptimizerStepsSkipped { get; private set; }

    public override Tensor forward(Tensor x) => fc.forward(x);

    [TrainingStep]
    private Tensor? TrainingStep(RegressionBatch batch, long batchIdx)
    {
        if (SkipOddBatches && batchIdx % 2 == 1)
        {
            OptimizerStepsSkipped++;
            return null;
        }
        var loss = functional.mse_loss(forward(batch.Features), batch.Target);
        Log("mse", loss);
        return loss;
    }

    [ConfigureOptimizers]
    private torch.optim.Optimizer ConfigureOptimizers() => torch.optim.SGD(parameters(), learningRate: 0.1);

    public Linear Layer => fc;
}

/// <summary>A linear classifier that optimizes manually, through the generated Optimizers() and ManualBackward.</summary>
[LightningModule(AutomaticOptimization = false)]
public partial class ManualClassifier : Module<Tensor, Tensor>
{
    private readonly Linear fc = Linear(4, 3);

    public ManualClassifier() : base(nameof(ManualClassifier)) => RegisterComponents();

    public override Tensor forward(Tensor x) => fc.forward(x);

    [TrainingStep]
    private Tensor TrainingStep((Tensor X, Tensor Y) batch, long batchIdx)
    {
        var optimizer = Optimizers();
        optimizer.zero_grad();
        var loss = functional.cross_entropy(forward(batch.X), batch.Y);
        ManualBackward(loss);
        optimizer.step();
        Log("loss", loss);
        return loss;
    }

    [ConfigureOptimizers]
    private Optimization ConfigureOptimizers() => torch.optim.SGD(parameters(), learningRate: 0.2);
}

/// <summary>Logs a scripted "val_score" per validation run (one value per epoch), to test callbacks exactly.</summary>
[LightningModule]
public partial class ScriptedScore : Module<Tensor, Tensor>
{
    private readonly Linear fc = Linear(4, 3);
    private int _run = -1;

    public ScriptedScore(params double[] script) : base(nameof(ScriptedScore))
    {
        Script = script;
        RegisterComponents();
    }

    /// <summary>The value logged by the n-th validation run.</summary>
    public double[] Script { get; }

    public override Tensor forward(Tensor x) => fc.forward(x);

    [TrainingStep]
    private Tensor TrainingStep((Tensor X, Tensor Y) batch, long batchIdx) => functional.cross_entropy(forward(batch.X), batch.Y);

    [ValidationStep]
    private void ValidationStep((Tensor X, Tensor Y) batch, long batchIdx)
    {
        if (batchIdx == 0) _run++;
        Log("val_score", Script[Math.Min(_run, Script.Length - 1)]);
    }

    /// <summary>Halve the learning rate with ReduceLROnPlateau (mode max, patience 0) on "val_score".</summary>
    public bool Plateau { get; init; }

    /// <summary>Set the plateau scheduler without a monitor (to test the error).</summary>
    public bool PlateauWithoutMonitor { get; init; }

    [ConfigureOptimizers]
    private Optimization ConfigureOptimizers()
    {
        var sgd = torch.optim.SGD(parameters(), learningRate: 0.01);
        if (!Plateau && !PlateauWithoutMonitor) return sgd;
        var plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(sgd, mode: "max", factor: 0.5, patience: 0);
        return new Optimization(sgd, plateau) { Monitor = PlateauWithoutMonitor ? null : "val_score" };
    }
}
