using System.Collections.Generic;
using Microsoft.CodeAnalysis;

namespace Lightning.Generators.Callbacks;

/// <summary>An argument a hook passes, which a hook method may take (by type, in any order).</summary>
internal enum HookArg
{
    /// <summary><c>Lightning.Trainer trainer</c>.</summary>
    Trainer,
    /// <summary><c>Lightning.ILightningModule module</c>, or the module's own class (checked at run time).</summary>
    Module,
    /// <summary><c>long batchIdx</c>.</summary>
    BatchIdx,
    /// <summary><c>Tensor? loss</c>.</summary>
    Loss,
    /// <summary><c>torch.optim.Optimizer optimizer</c>.</summary>
    Optimizer,
    /// <summary><c>System.Exception exception</c>.</summary>
    Exception,
}

/// <summary>One hook of <c>Lightning.ICallback</c>: its name and its parameters, in the interface's order.</summary>
internal sealed class Hook
{
    public Hook(string name, params HookArg[] args)
    {
        Name = name;
        Args = args;
    }

    public string Name { get; }

    public IReadOnlyList<HookArg> Args { get; }
}

/// <summary>
/// The hooks of <c>Lightning.ICallback</c> (Lightning's names), the Ignite events that map to them, and the rules for
/// which method parameters a hook can fill. Shared by the generator (to wire methods) and the analyzer (to check them).
/// </summary>
internal static class HookCatalog
{
    public const string CallbackAttribute = "Lightning.CallbackAttribute";
    public const string TrainerEventType = "Lightning.TrainerEvent";
    public const string TrainerType = "Lightning.Trainer";
    public const string ModuleInterface = "Lightning.ILightningModule";
    public const string TensorType = "TorchSharp.torch.Tensor";
    public const string OptimizerType = "TorchSharp.torch.optim.Optimizer";
    public const string ExceptionType = "System.Exception";

    private static readonly HookArg[] TM = { HookArg.Trainer, HookArg.Module };

    /// <summary>Every hook, in the order the interface declares them.</summary>
    public static readonly IReadOnlyList<Hook> Hooks = new[]
    {
        new Hook("OnFitStart", TM), new Hook("OnFitEnd", TM),
        new Hook("OnSanityCheckStart", TM), new Hook("OnSanityCheckEnd", TM),
        new Hook("OnTrainStart", TM), new Hook("OnTrainEnd", TM),
        new Hook("OnTrainEpochStart", TM), new Hook("OnTrainEpochEnd", TM),
        new Hook("OnTrainBatchStart", HookArg.Trainer, HookArg.Module, HookArg.BatchIdx),
        new Hook("OnTrainBatchEnd", HookArg.Trainer, HookArg.Module, HookArg.Loss, HookArg.BatchIdx),
        new Hook("OnBeforeBackward", HookArg.Trainer, HookArg.Module, HookArg.Loss),
        new Hook("OnAfterBackward", TM),
        new Hook("OnBeforeOptimizerStep", HookArg.Trainer, HookArg.Module, HookArg.Optimizer),
        new Hook("OnBeforeZeroGrad", HookArg.Trainer, HookArg.Module, HookArg.Optimizer),
        new Hook("OnValidationStart", TM), new Hook("OnValidationEnd", TM),
        new Hook("OnValidationBatchStart", HookArg.Trainer, HookArg.Module, HookArg.BatchIdx),
        new Hook("OnValidationBatchEnd", HookArg.Trainer, HookArg.Module, HookArg.BatchIdx),
        new Hook("OnTestStart", TM), new Hook("OnTestEnd", TM),
        new Hook("OnPredictStart", TM), new Hook("OnPredictEnd", TM),
        new Hook("OnException", HookArg.Trainer, HookArg.Module, HookArg.Exception),
    };

    /// <summary>The hook named <paramref name="name"/>, or null.</summary>
    public static Hook? Find(string name)
    {
        foreach (var h in Hooks) if (h.Name == name) return h;
        return null;
    }

    /// <summary>
    /// The Ignite events of <c>Lightning.TrainerEvent</c>, by value, with the hook each runs in and the expression of
    /// its count (what Every and Once filter on).
    /// </summary>
    public static readonly IReadOnlyList<(string Event, string Hook, string Count)> Events = new[]
    {
        ("Started", "OnTrainStart", "1"),
        ("EpochStarted", "OnTrainEpochStart", "trainer.CurrentEpoch + 1"),
        ("IterationStarted", "OnTrainBatchStart", "trainer.Iteration + 1"),
        ("IterationCompleted", "OnTrainBatchEnd", "trainer.Iteration"),
        ("EpochCompleted", "OnTrainEpochEnd", "trainer.CurrentEpoch + 1"),
        ("Completed", "OnTrainEnd", "1"),
    };

    /// <summary>
    /// Which hook argument a method parameter of type <paramref name="type"/> takes, or null when the hook cannot fill
    /// it. <paramref name="moduleClass"/> is set when the parameter is a specific module class (cast at run time).
    /// </summary>
    public static HookArg? ArgFor(ITypeSymbol type, out bool moduleClass)
    {
        moduleClass = false;
        var name = type.WithNullableAnnotation(NullableAnnotation.NotAnnotated).ToDisplayString(SymbolDisplayFormat.CSharpErrorMessageFormat);
        switch (name)
        {
            case TrainerType: return HookArg.Trainer;
            case ModuleInterface: return HookArg.Module;
            case "long": return HookArg.BatchIdx;
            case TensorType: return HookArg.Loss;
            case OptimizerType: return HookArg.Optimizer;
            case ExceptionType: return HookArg.Exception;
        }
        foreach (var i in type.AllInterfaces)
        {
            if (i.ToDisplayString(SymbolDisplayFormat.CSharpErrorMessageFormat) == ModuleInterface)
            {
                moduleClass = true;
                return HookArg.Module;
            }
        }
        // A [LightningModule] class whose generated code (implementing ILightningModule) is not visible to this check yet.
        foreach (var a in type.GetAttributes())
        {
            if (a.AttributeClass?.ToDisplayString() == "Lightning.LightningModuleAttribute")
            {
                moduleClass = true;
                return HookArg.Module;
            }
        }
        return null;
    }

    /// <summary>How a hook argument is called in the generated method.</summary>
    public static string ParameterName(HookArg arg) => arg switch
    {
        HookArg.Trainer => "trainer",
        HookArg.Module => "module",
        HookArg.BatchIdx => "batchIdx",
        HookArg.Loss => "loss",
        HookArg.Optimizer => "optimizer",
        _ => "exception",
    };

    /// <summary>The type of a hook argument as the interface declares it.</summary>
    public static string ParameterType(HookArg arg) => arg switch
    {
        HookArg.Trainer => "global::Lightning.Trainer",
        HookArg.Module => "global::Lightning.ILightningModule",
        HookArg.BatchIdx => "long",
        HookArg.Loss => "global::TorchSharp.torch.Tensor?",
        HookArg.Optimizer => "global::TorchSharp.torch.optim.Optimizer",
        _ => "global::System.Exception",
    };

    /// <summary>The hook closest to <paramref name="name"/> by edit distance when it is a near miss (1 to 2 edits, or only case differs), else null.</summary>
    public static string? NearMiss(string name)
    {
        if (Find(name) is not null || !name.StartsWith("On", System.StringComparison.OrdinalIgnoreCase)) return null;
        string? best = null;
        int bestDistance = int.MaxValue;
        foreach (var h in Hooks)
        {
            if (string.Equals(h.Name, name, System.StringComparison.OrdinalIgnoreCase)) return h.Name;
            int d = Distance(h.Name, name);
            if (d < bestDistance) { bestDistance = d; best = h.Name; }
        }
        return bestDistance <= 2 ? best : null;
    }

    private static int Distance(string a, string b) => Helpers.EditDistance.Between(a, b);
}
