using System.Collections.Generic;
using TorchSharp;

namespace Lightning;

/// <summary>
/// What the trainer needs from any Lightning module, whatever its batch type. The generator implements it
/// (explicitly) for every <c>[LightningModule]</c> class; users do not implement it by hand.
/// </summary>
public interface ILightningModule
{
    /// <summary>The module's type name, as saved in checkpoints.</summary>
    string ModuleTypeName { get; }

    /// <summary>The current hyperparameters.</summary>
    IHyperParameters HyperParameters { get; }

    /// <summary>The module itself, as a TorchSharp module.</summary>
    torch.nn.Module Module { get; }

    /// <summary>False when the module steps its optimizer itself (<c>[LightningModule(AutomaticOptimization = false)]</c>).</summary>
    bool AutomaticOptimization { get; }

    /// <summary>Where the module's <c>Log</c> calls go.</summary>
    MetricStore Metrics { get; }

    /// <summary>Registers the module's fields as submodules, parameters and buffers (once).</summary>
    void RegisterComponentsOnce();

    /// <summary>Calls the <c>[ConfigureOptimizers]</c> method.</summary>
    Optimization ConfigureOptimizers();
}

/// <summary>A Lightning module that trains on batches of type <typeparamref name="TBatch"/>.</summary>
public interface ILightningModule<TBatch> : ILightningModule
{
    /// <summary>Runs one training epoch over <paramref name="batches"/>: the generated, strongly-typed loop.</summary>
    void RunTrainingEpoch(IEnumerable<TBatch> batches, TrainingLoop loop);
}

/// <summary>A Lightning module with a <c>[ValidationStep]</c>.</summary>
public interface IValidationModule<TBatch> : ILightningModule<TBatch>
{
    /// <summary>Runs the validation step over <paramref name="batches"/> in eval mode, without gradients.</summary>
    void RunValidation(IEnumerable<TBatch> batches, EvaluationLoop loop);
}

/// <summary>A Lightning module with a <c>[TestStep]</c>.</summary>
public interface ITestModule<TBatch> : ILightningModule<TBatch>
{
    /// <summary>Runs the test step over <paramref name="batches"/> in eval mode, without gradients.</summary>
    void RunTest(IEnumerable<TBatch> batches, EvaluationLoop loop);
}

/// <summary>A Lightning module with a <c>[PredictStep]</c> returning <typeparamref name="TOutput"/>.</summary>
public interface IPredictModule<TBatch, TOutput> : ILightningModule<TBatch>
{
    /// <summary>Runs the prediction step over <paramref name="batches"/>, adding each output to <paramref name="outputs"/>.</summary>
    void RunPredict(IEnumerable<TBatch> batches, EvaluationLoop loop, List<TOutput> outputs);
}
