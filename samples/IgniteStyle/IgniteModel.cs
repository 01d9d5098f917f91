using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using Lightning;
using Lightning.Metrics;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace IgniteStyle;

/// <summary>
/// An Ignite-style run: the trainer trains; at each completed epoch a handler runs a separate evaluation over the
/// training and the validation data and prints balanced accuracy, as Ignite's evaluator attached to EPOCH_COMPLETED.
/// </summary>
[LightningModule]
public partial class IgniteModel(
    [Hyperparameter(Description = "input features", Min = 1)] int features = 6,
    [Hyperparameter(Description = "classes", Min = 2)] int classes = 3,
    [Hyperparameter(Description = "hidden units", Min = 1)] int hidden = 32) : Module<Tensor, Tensor>(nameof(IgniteModel))
{
    [Hyperparameter(Description = "SGD learning rate", Min = 0)] public double Lr { get; init; } = 0.1;

    private readonly Sequential net = Sequential(Linear(features, hidden), ReLU(), Linear(hidden, classes));
    private readonly BalancedAccuracy _balanced = new(ClassificationTask.Multiclass, classes);

    /// <summary>The data the evaluator runs on, set by the app before the fit.</summary>
    public IEnumerable<(Tensor X, Tensor Y)>? TrainEvaluation { get; set; }

    /// <summary>The validation data the evaluator runs on.</summary>
    public IEnumerable<(Tensor X, Tensor Y)>? ValEvaluation { get; set; }

    /// <summary>Where the handlers print.</summary>
    public TextWriter Output { get; set; } = Console.Out;

    /// <summary>(epoch, train balanced accuracy, validation balanced accuracy) per evaluated epoch.</summary>
    public List<(int Epoch, double Train, double Val)> History { get; } = new();

    public override Tensor forward(Tensor x) => net.forward(x);

    [TrainingStep]
    Tensor TrainingStep((Tensor X, Tensor Y) batch)
    {
        var loss = functional.cross_entropy(forward(batch.X), batch.Y.to_type(ScalarType.Int64));
        Log("loss", loss, progBar: true, onEpoch: true);
        return loss;
    }

    /// <summary>The evaluator's step: accumulates balanced accuracy on the device.</summary>
    [ValidationStep]
    void ValidationStep((Tensor X, Tensor Y) batch) => _balanced.Update(forward(batch.X), batch.Y.to_type(ScalarType.Int64));

    [PredictStep]
    Tensor PredictStep((Tensor X, Tensor Y) batch) => forward(batch.X).argmax(1);

    [ConfigureOptimizers]
    Optimization ConfigureOptimizers() => torch.optim.SGD(parameters(), Lr, momentum: 0.9);

    /// <summary>Ignite's <c>@trainer.on(Events.EPOCH_COMPLETED)</c>: evaluate on the training and the validation data.</summary>
    [Callback(TrainerEvent.EpochCompleted)]
    void LogResults(Trainer trainer)
    {
        double train = Evaluate(trainer, TrainEvaluation), val = Evaluate(trainer, ValEvaluation);
        History.Add((trainer.CurrentEpoch, train, val));
        var ci = CultureInfo.InvariantCulture;
        // Epochs from 0, as everywhere in Lightning (Ignite's own engine counts from 1).
        Output.WriteLine($"Epoch [{trainer.CurrentEpoch}] train balanced accuracy: {train.ToString("0.0000", ci)}  validation balanced accuracy: {val.ToString("0.0000", ci)}");
    }

    /// <summary>Ignite's <c>Events.ITERATION_COMPLETED(every=50)</c>: a progress line.</summary>
    [Callback(TrainerEvent.IterationCompleted, Every = 50)]
    void LogIteration(Trainer trainer) => Output.WriteLine($"Iteration {trainer.Iteration}");

    private double Evaluate(Trainer trainer, IEnumerable<(Tensor X, Tensor Y)>? data)
    {
        if (data is null) return double.NaN;
        _balanced.Reset();
        trainer.Validate(this, data);
        return _balanced.ComputeValue();
    }
}
