namespace Lightning.Generators.Modules;

/// <summary>Metadata names of the attributes the generator reads (from Lightning.Abstractions).</summary>
internal static class Names
{
    public const string LightningModuleAttribute = "Lightning.LightningModuleAttribute";
    public const string HyperparameterAttribute = "Lightning.HyperparameterAttribute";
    public const string TrainingStepAttribute = "Lightning.TrainingStepAttribute";
    public const string ValidationStepAttribute = "Lightning.ValidationStepAttribute";
    public const string TestStepAttribute = "Lightning.TestStepAttribute";
    public const string PredictStepAttribute = "Lightning.PredictStepAttribute";
    public const string ConfigureOptimizersAttribute = "Lightning.ConfigureOptimizersAttribute";
    public const string AutomaticOptimization = "AutomaticOptimization";

    /// <summary>The metadata name of <paramref name="attribute"/> when it marks a step or [ConfigureOptimizers], else null.</summary>
    public static string? StepKind(Microsoft.CodeAnalysis.AttributeData attribute) => attribute.AttributeClass?.ToDisplayString() switch
    {
        TrainingStepAttribute => TrainingStepAttribute,
        ValidationStepAttribute => ValidationStepAttribute,
        TestStepAttribute => TestStepAttribute,
        PredictStepAttribute => PredictStepAttribute,
        ConfigureOptimizersAttribute => ConfigureOptimizersAttribute,
        _ => null,
    };

    /// <summary>The <c>[LightningModule]</c> attribute of <paramref name="type"/> (given the attribute's symbol), or null.</summary>
    public static Microsoft.CodeAnalysis.AttributeData? ModuleAttribute(Microsoft.CodeAnalysis.ISymbol type, Microsoft.CodeAnalysis.INamedTypeSymbol moduleAttribute)
    {
        foreach (var a in type.GetAttributes())
            if (Microsoft.CodeAnalysis.SymbolEqualityComparer.Default.Equals(a.AttributeClass, moduleAttribute)) return a;
        return null;
    }

    /// <summary>The step (or [ConfigureOptimizers]) attribute of <paramref name="method"/>, or null.</summary>
    public static string? StepKind(Microsoft.CodeAnalysis.IMethodSymbol method)
    {
        foreach (var a in method.GetAttributes())
            if (StepKind(a) is string kind) return kind;
        return null;
    }
}

/// <summary>Names of the generator's tracked pipeline steps (for caching tests).</summary>
internal static class TrackingNames
{
    public const string ModuleSpec = nameof(ModuleSpec);
    public const string CallbackSpec = nameof(CallbackSpec);
}
