using System.Collections.Generic;

namespace Lightning.Generators.Kernel;

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

/// <summary>An Ignite event of <c>Lightning.TrainerEvent</c>: the hook it runs in and the expression of its count (what Every and Once filter on).</summary>
internal sealed class HookEvent
{
    public HookEvent(string name, string hook, string count)
    {
        Name = name;
        Hook = hook;
        Count = count;
    }

    public string Name { get; }

    public string Hook { get; }

    public string Count { get; }
}

/// <summary>
/// The hooks of <c>Lightning.ICallback</c> (Lightning's names, in the interface's order, with their parameters) and the
/// Ignite events of <c>Lightning.TrainerEvent</c>, by name. The one list the generator and the analyzers use; a test
/// compares it with the runtime's <c>ICallback</c>, <c>Callback</c>, <c>CallbackList</c>, <c>TrainerEvent</c> and docs/hooks.md.
/// </summary>
internal static class HookCatalog
{
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

    /// <summary>The Ignite events, by their <c>TrainerEvent</c> member names.</summary>
    public static readonly IReadOnlyList<HookEvent> Events = new[]
    {
        new HookEvent("Started", "OnTrainStart", "1"),
        new HookEvent("EpochStarted", "OnTrainEpochStart", "trainer.CurrentEpoch + 1"),
        new HookEvent("IterationStarted", "OnTrainBatchStart", "trainer.Iteration + 1"),
        new HookEvent("IterationCompleted", "OnTrainBatchEnd", "trainer.Iteration"),
        new HookEvent("EpochCompleted", "OnTrainEpochEnd", "trainer.CurrentEpoch + 1"),
        new HookEvent("Completed", "OnTrainEnd", "1"),
    };

    /// <summary>The hook named <paramref name="name"/>, or null.</summary>
    public static Hook? Find(string name)
    {
        foreach (var h in Hooks) if (h.Name == name) return h;
        return null;
    }

    /// <summary>The event whose <c>TrainerEvent</c> member is named <paramref name="name"/>, or null.</summary>
    public static HookEvent? FindEvent(string name)
    {
        foreach (var e in Events) if (e.Name == name) return e;
        return null;
    }

    /// <summary>The position of a hook in the interface (the order bindings are emitted in).</summary>
    public static int Order(string hook)
    {
        for (int i = 0; i < Hooks.Count; i++) if (Hooks[i].Name == hook) return i;
        return Hooks.Count;
    }

    /// <summary>How a hook argument is called in the generated method (the interface's parameter name).</summary>
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
            int d = Helpers.EditDistance.Between(h.Name, name);
            if (d < bestDistance) { bestDistance = d; best = h.Name; }
        }
        return bestDistance <= 2 ? best : null;
    }
}
