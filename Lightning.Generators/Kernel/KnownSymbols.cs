using System.Collections.Generic;
using System.Runtime.CompilerServices;
using Microsoft.CodeAnalysis;

namespace Lightning.Generators.Kernel;

/// <summary>
/// The Lightning, TorchSharp and BCL types the rules compare against, resolved once per compilation. Used only inside
/// generator transforms and analyzer callbacks; never stored in a pipeline model (it holds symbols).
/// </summary>
internal sealed class KnownSymbols
{
    private static readonly ConditionalWeakTable<Compilation, KnownSymbols> Cache = new();

    /// <summary>The known symbols of <paramref name="compilation"/> (resolved on first use, then shared).</summary>
    public static KnownSymbols Get(Compilation compilation) => Cache.GetValue(compilation, static c => new KnownSymbols(c));

    private KnownSymbols(Compilation compilation)
    {
        INamedTypeSymbol? Type(string name) => compilation.GetTypeByMetadataName(name);
        LightningModuleAttribute = Type(Names.LightningModuleAttribute);
        HyperparameterAttribute = Type(Names.HyperparameterAttribute);
        CallbackAttribute = Type(Names.CallbackAttribute);
        TrainerEvent = Type(Names.TrainerEvent);
        Trainer = Type(Names.Trainer);
        TrainerOptions = Type(Names.TrainerOptions);
        ModuleInterface = Type(Names.ModuleInterface);
        Optimization = Type(Names.Optimization);
        ModelCheckpoint = Type(Names.ModelCheckpoint);
        EarlyStopping = Type(Names.EarlyStopping);
        Tensor = Type(Names.Tensor);
        Optimizer = Type(Names.Optimizer);
        NnModule = Type(Names.NnModule);
        // From the core library itself: by name across references, System.Exception can be ambiguous (facades, forwarders).
        Exception = compilation.ObjectType.ContainingAssembly.GetTypeByMetadataName(Names.Exception) ?? Type(Names.Exception);
        _steps = new (INamedTypeSymbol?, StepKind)[]
        {
            (Type(Names.TrainingStepAttribute), StepKind.Training),
            (Type(Names.ValidationStepAttribute), StepKind.Validation),
            (Type(Names.TestStepAttribute), StepKind.Test),
            (Type(Names.PredictStepAttribute), StepKind.Predict),
            (Type(Names.ConfigureOptimizersAttribute), StepKind.ConfigureOptimizers),
        };
    }

    private readonly (INamedTypeSymbol? Attribute, StepKind Kind)[] _steps;

    public INamedTypeSymbol? LightningModuleAttribute { get; }
    public INamedTypeSymbol? HyperparameterAttribute { get; }
    public INamedTypeSymbol? CallbackAttribute { get; }
    public INamedTypeSymbol? TrainerEvent { get; }
    public INamedTypeSymbol? Trainer { get; }
    public INamedTypeSymbol? TrainerOptions { get; }
    public INamedTypeSymbol? ModuleInterface { get; }
    public INamedTypeSymbol? Optimization { get; }
    public INamedTypeSymbol? ModelCheckpoint { get; }
    public INamedTypeSymbol? EarlyStopping { get; }
    public INamedTypeSymbol? Tensor { get; }
    public INamedTypeSymbol? Optimizer { get; }
    public INamedTypeSymbol? NnModule { get; }
    public INamedTypeSymbol? Exception { get; }

    // ------------------------------------------------------------------ attributes

    /// <summary>The step (or [ConfigureOptimizers]) that <paramref name="attribute"/> marks, or null.</summary>
    public StepKind? StepKindOf(AttributeData attribute)
    {
        foreach (var (symbol, kind) in _steps)
            if (symbol is not null && SymbolEqualityComparer.Default.Equals(attribute.AttributeClass, symbol)) return kind;
        return null;
    }

    /// <summary>Every step (or [ConfigureOptimizers]) attribute of <paramref name="method"/>.</summary>
    public IEnumerable<(AttributeData Attribute, StepKind Kind)> StepAttributes(IMethodSymbol method)
    {
        foreach (var a in method.GetAttributes())
            if (StepKindOf(a) is StepKind kind) yield return (a, kind);
    }

    /// <summary>The first attribute of class <paramref name="attribute"/> on <paramref name="symbol"/>, or null.</summary>
    public static AttributeData? Attribute(ISymbol symbol, INamedTypeSymbol? attribute)
    {
        if (attribute is null) return null;
        foreach (var a in symbol.GetAttributes())
            if (SymbolEqualityComparer.Default.Equals(a.AttributeClass, attribute)) return a;
        return null;
    }

    /// <summary>Every attribute of class <paramref name="attribute"/> on <paramref name="symbol"/>.</summary>
    public static IEnumerable<AttributeData> Attributes(ISymbol symbol, INamedTypeSymbol? attribute)
    {
        if (attribute is null) yield break;
        foreach (var a in symbol.GetAttributes())
            if (SymbolEqualityComparer.Default.Equals(a.AttributeClass, attribute)) yield return a;
    }

    public AttributeData? ModuleAttribute(ISymbol type) => Attribute(type, LightningModuleAttribute);

    public bool IsModule(ISymbol? type) => type is not null && ModuleAttribute(type) is not null;

    public bool IsCallbackClass(ISymbol type) => Attribute(type, CallbackAttribute) is not null;

    public AttributeData? HyperparameterOf(ISymbol member) => Attribute(member, HyperparameterAttribute);

    /// <summary>False when <c>[LightningModule(AutomaticOptimization = false)]</c>.</summary>
    public static bool AutomaticOptimization(AttributeData moduleAttribute)
    {
        foreach (var arg in moduleAttribute.NamedArguments)
            if (arg.Key == Names.AutomaticOptimization && arg.Value.Value is bool b) return b;
        return true;
    }

    // ------------------------------------------------------------------ types

    /// <summary>True for <c>torch.Tensor</c> and its subclasses.</summary>
    public bool IsTensor(ITypeSymbol? type) => DerivesFrom(type, Tensor);

    public bool IsOptimizer(ITypeSymbol? type) => DerivesFrom(type, Optimizer);

    public bool IsNnModule(ITypeSymbol? type) => DerivesFrom(type, NnModule);

    /// <summary>What a [ConfigureOptimizers] method may return: an optimizer (or a subclass) or Lightning.Optimization.</summary>
    public bool IsOptimization(ITypeSymbol type) => Same(type, Optimization) || IsOptimizer(type);

    /// <summary><paramref name="type"/> is <paramref name="other"/>, ignoring nullable annotations.</summary>
    public static bool Same(ITypeSymbol? type, ITypeSymbol? other) =>
        type is not null && other is not null
        && SymbolEqualityComparer.Default.Equals(type.WithNullableAnnotation(NullableAnnotation.None), other.WithNullableAnnotation(NullableAnnotation.None));

    /// <summary><paramref name="type"/> is <paramref name="baseType"/> or derives from it.</summary>
    public static bool DerivesFrom(ITypeSymbol? type, INamedTypeSymbol? baseType)
    {
        if (baseType is null) return false;
        for (var t = type; t is not null; t = t.BaseType)
            if (SymbolEqualityComparer.Default.Equals(t.OriginalDefinition, baseType)) return true;
        return false;
    }

    /// <summary><paramref name="type"/> implements <paramref name="interfaceType"/>.</summary>
    public static bool Implements(ITypeSymbol type, INamedTypeSymbol? interfaceType)
    {
        if (interfaceType is null) return false;
        foreach (var i in type.AllInterfaces)
            if (SymbolEqualityComparer.Default.Equals(i.OriginalDefinition, interfaceType)) return true;
        return false;
    }
}
