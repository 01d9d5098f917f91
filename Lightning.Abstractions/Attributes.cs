using System;

namespace Lightning;

/// <summary>
/// Marks a partial <c>torch.nn.Module</c> class as a Lightning module. The Lightning generator writes its
/// training loop, its <c>HParams</c> record and its device-transfer code into <c>Name.Lightning.g.cs</c>.
/// </summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false, AllowMultiple = false)]
public sealed class LightningModuleAttribute : Attribute
{
    /// <summary>
    /// When true (the default) the trainer calls <c>backward()</c>, the optimizer step and <c>zero_grad()</c>
    /// after each <see cref="TrainingStepAttribute"/> method. Set it to false to do these yourself.
    /// </summary>
    public bool AutomaticOptimization { get; set; } = true;
}

/// <summary>
/// A hyperparameter of a Lightning module: a primary-constructor parameter with a default value, or a
/// property with an <c>init</c> accessor and an initializer. It becomes a member of the generated
/// <c>HParams</c> record, is saved in checkpoints and can be set from the command line.
/// </summary>
/// <remarks>
/// <see cref="Min"/>, <see cref="Max"/> and <see cref="Choices"/> declare the values the module accepts, e.g.
/// <c>[Hyperparameter(Min = 1)] int batchSize = 64</c> or <c>[Hyperparameter(Min = 0, Max = 1)] double Dropout</c>.
/// The generated <c>HParams.Validate</c> checks them, and it runs wherever hyperparameters come in: <c>FromJson</c>
/// (config files, checkpoints), <c>Create</c>, <c>LoadFromCheckpoint</c> and the command line; a default outside its
/// own range is a compile-time error (LTN0019).
/// </remarks>
[AttributeUsage(AttributeTargets.Parameter | AttributeTargets.Property, Inherited = false, AllowMultiple = false)]
public sealed class HyperparameterAttribute : Attribute
{
    /// <summary>A one-line description, shown in the hyperparameter table and in <c>--help</c>.</summary>
    public string? Description { get; set; }

    /// <summary>
    /// The smallest allowed value, inclusive, of an <c>int</c>, <c>long</c>, <c>float</c> or <c>double</c>
    /// hyperparameter (a whole number for <c>int</c> and <c>long</c>). <see cref="double.NaN"/>, the default, means no lower bound.
    /// </summary>
    public double Min { get; set; } = double.NaN;

    /// <summary>
    /// The largest allowed value, inclusive, of an <c>int</c>, <c>long</c>, <c>float</c> or <c>double</c>
    /// hyperparameter (a whole number for <c>int</c> and <c>long</c>). <see cref="double.NaN"/>, the default, means no upper bound.
    /// </summary>
    public double Max { get; set; } = double.NaN;

    /// <summary>
    /// The allowed values of a <c>string</c> hyperparameter, compared exactly (case-sensitive), e.g.
    /// <c>Choices = new[] { "adam", "adamw", "sgd" }</c>. Null, the default, allows any string.
    /// </summary>
    public string[]? Choices { get; set; }
}

/// <summary>
/// The training step: <c>Tensor TrainingStep(TBatch batch, long batchIdx)</c>. It returns the loss; returning
/// <c>null</c> skips the optimizer step for that batch.
/// </summary>
[AttributeUsage(AttributeTargets.Method, Inherited = false, AllowMultiple = false)]
public sealed class TrainingStepAttribute : Attribute { }

/// <summary>The validation step: <c>void ValidationStep(TBatch batch, long batchIdx)</c>. Runs in eval mode without gradients.</summary>
[AttributeUsage(AttributeTargets.Method, Inherited = false, AllowMultiple = false)]
public sealed class ValidationStepAttribute : Attribute { }

/// <summary>The test step: <c>void TestStep(TBatch batch, long batchIdx)</c>. Runs in eval mode without gradients.</summary>
[AttributeUsage(AttributeTargets.Method, Inherited = false, AllowMultiple = false)]
public sealed class TestStepAttribute : Attribute { }

/// <summary>The prediction step: <c>TOutput PredictStep(TBatch batch, long batchIdx)</c>. Runs in eval mode without gradients.</summary>
[AttributeUsage(AttributeTargets.Method, Inherited = false, AllowMultiple = false)]
public sealed class PredictStepAttribute : Attribute { }

/// <summary>
/// Returns the optimizer (or an optimizer and learning-rate scheduler) that trains the module. Called once
/// per fit, after the module has been moved to its device.
/// </summary>
[AttributeUsage(AttributeTargets.Method, Inherited = false, AllowMultiple = false)]
public sealed class ConfigureOptimizersAttribute : Attribute { }

/// <summary>
/// Ignite's engine events, for <see cref="CallbackAttribute"/> handlers. Each maps to a Lightning hook:
/// <see cref="Started"/> = <c>OnTrainStart</c>, <see cref="EpochStarted"/> = <c>OnTrainEpochStart</c>,
/// <see cref="IterationStarted"/> = <c>OnTrainBatchStart</c>, <see cref="IterationCompleted"/> = <c>OnTrainBatchEnd</c>,
/// <see cref="EpochCompleted"/> = <c>OnTrainEpochEnd</c>, <see cref="Completed"/> = <c>OnTrainEnd</c>.
/// </summary>
public enum TrainerEvent
{
    /// <summary>Training starts (after the sanity check), once per fit.</summary>
    Started,
    /// <summary>An epoch starts; its count is the epoch number, from 1.</summary>
    EpochStarted,
    /// <summary>A training batch starts; its count is the iteration number across epochs, from 1.</summary>
    IterationStarted,
    /// <summary>A training batch ended (after the optimizer step); its count is the iteration number, from 1.</summary>
    IterationCompleted,
    /// <summary>An epoch ended (after its validation); its count is the epoch number, from 1.</summary>
    EpochCompleted,
    /// <summary>Training ended, once per fit.</summary>
    Completed,
}

/// <summary>
/// On a class: a user callback. The generator finds its methods named as Lightning's hooks
/// (<c>OnTrainEpochEnd</c>, <c>OnTrainBatchEnd</c>...) and calls them directly, in Lightning's order; pass an
/// instance in <c>TrainerOptions.Callbacks</c>. A hook method takes any of the hook's arguments, by type, in any
/// order: the <c>Trainer</c>, the module (as <c>ILightningModule</c> or its own class), the batch index (<c>long</c>),
/// the loss (<c>Tensor?</c>, batch-end hooks).
/// On a method of a callback or a Lightning module: an Ignite-style handler of <see cref="Event"/>, filtered by
/// <see cref="Every"/> or <see cref="Once"/>.
/// </summary>
[AttributeUsage(AttributeTargets.Class | AttributeTargets.Method, Inherited = false, AllowMultiple = true)]
public sealed class CallbackAttribute : Attribute
{
    /// <summary>A user callback class.</summary>
    public CallbackAttribute() { }

    /// <summary>A handler of <paramref name="event"/>.</summary>
    public CallbackAttribute(TrainerEvent @event) => Event = @event;

    /// <summary>The event a handler method runs at.</summary>
    public TrainerEvent Event { get; }

    /// <summary>Run only when the event's count is a multiple of this (Ignite's <c>every=n</c>); 0 for every time.</summary>
    public int Every { get; set; }

    /// <summary>Run only when the event's count equals this (Ignite's <c>once=n</c>); 0 for no such filter.</summary>
    public int Once { get; set; }
}
