namespace Lightning.Generators.Kernel;

/// <summary>Metadata names of the Lightning, TorchSharp and BCL types the generator and the analyzers recognise.</summary>
/// <remarks>Only <see cref="KnownSymbols"/> and <c>ForAttributeWithMetadataName</c> use these strings; everything else compares symbols.</remarks>
internal static class Names
{
    public const string LightningModuleAttribute = "Lightning.LightningModuleAttribute";
    public const string HyperparameterAttribute = "Lightning.HyperparameterAttribute";
    public const string TrainingStepAttribute = "Lightning.TrainingStepAttribute";
    public const string ValidationStepAttribute = "Lightning.ValidationStepAttribute";
    public const string TestStepAttribute = "Lightning.TestStepAttribute";
    public const string PredictStepAttribute = "Lightning.PredictStepAttribute";
    public const string ConfigureOptimizersAttribute = "Lightning.ConfigureOptimizersAttribute";
    public const string CallbackAttribute = "Lightning.CallbackAttribute";
    public const string TrainerEvent = "Lightning.TrainerEvent";
    public const string Trainer = "Lightning.Trainer";
    public const string TrainerOptions = "Lightning.TrainerOptions";
    public const string ModuleInterface = "Lightning.ILightningModule";
    public const string Optimization = "Lightning.Optimization";
    public const string ModelCheckpoint = "Lightning.Callbacks.ModelCheckpoint";
    public const string EarlyStopping = "Lightning.Callbacks.EarlyStopping";
    public const string Tensor = "TorchSharp.torch+Tensor";
    public const string Optimizer = "TorchSharp.torch+optim+Optimizer";
    public const string NnModule = "TorchSharp.torch+nn+Module";
    public const string Exception = "System.Exception";

    /// <summary>The named argument of [LightningModule] that turns automatic optimization off.</summary>
    public const string AutomaticOptimization = "AutomaticOptimization";
}

/// <summary>The kinds of step method (and [ConfigureOptimizers]) a module declares.</summary>
internal enum StepKind { Training, Validation, Test, Predict, ConfigureOptimizers }

internal static class StepKinds
{
    /// <summary>The attribute as users write it: <c>TrainingStep</c>, <c>ConfigureOptimizers</c>...</summary>
    public static string AttributeName(this StepKind kind) => kind switch
    {
        StepKind.Training => "TrainingStep",
        StepKind.Validation => "ValidationStep",
        StepKind.Test => "TestStep",
        StepKind.Predict => "PredictStep",
        _ => "ConfigureOptimizers",
    };
}

/// <summary>Names of the generators' tracked pipeline steps (for caching tests and the benchmark).</summary>
internal static class TrackingNames
{
    /// <summary>A module's parse: its spec and its diagnostics (plain values, compared between runs).</summary>
    public const string ModuleSpec = nameof(ModuleSpec);
    /// <summary>A module's spec alone: what its file is emitted from (unchanged when only a diagnostic moved).</summary>
    public const string ModuleCode = nameof(ModuleCode);
    /// <summary>A [Callback] class's parse: its spec and its diagnostics.</summary>
    public const string CallbackSpec = nameof(CallbackSpec);
    /// <summary>A [Callback] class's spec alone.</summary>
    public const string CallbackCode = nameof(CallbackCode);
}
