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
[AttributeUsage(AttributeTargets.Parameter | AttributeTargets.Property, Inherited = false, AllowMultiple = false)]
public sealed class HyperparameterAttribute : Attribute
{
    /// <summary>A one-line description, shown in the hyperparameter table and in <c>--help</c>.</summary>
    public string? Description { get; set; }
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
