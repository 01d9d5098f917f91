using System.Collections.Generic;
using Microsoft.CodeAnalysis;

namespace Lightning.Generators.Kernel;

/// <summary>
/// Every diagnostic Lightning reports, in one place, with stable IDs. Each has a help page in
/// docs/diagnostics/LTNxxxx.md (its help link) and a line in AnalyzerReleases.Unshipped.md, which also says where it
/// is reported: declaration rules by the generators (they appear even when the compiler skips analyzers), code rules
/// by the analyzers.
/// </summary>
internal static class DiagnosticDescriptors
{
    private const string Category = "Lightning";

    /// <summary>Where the help pages are: the repository's docs/diagnostics folder, relative to the repository root.</summary>
    public const string HelpLinkBase = "docs/diagnostics/";

    public const string NotPartialId = "LTN0001";
    public const string NoTrainingStepId = "LTN0002";
    public const string NoOptimizerId = "LTN0003";
    public const string BadOptimizerReturnId = "LTN0004";
    public const string ManualOptimizationCallId = "LTN0005";
    public const string StepSignatureId = "LTN0006";
    public const string HyperparameterTypeId = "LTN0007";
    public const string HyperparameterDefaultId = "LTN0008";
    public const string HyperparameterNotSettableId = "LTN0009";
    public const string NonConstantLogKeyId = "LTN0010";
    public const string LogForbiddenId = "LTN0011";
    public const string HostSyncId = "LTN0012";
    public const string MonitoredMetricNotLoggedId = "LTN0013";
    public const string CallbackNotPartialId = "LTN0014";
    public const string HookSignatureId = "LTN0015";
    public const string CallbackAttributeMisuseId = "LTN0016";
    public const string HookNearMissId = "LTN0017";
    public const string ManualOptimizationOptionsId = "LTN0018";
    public const string HyperparameterRangeId = "LTN0019";
    public const string NotAModuleClassId = "LTN0020";

    private static DiagnosticDescriptor Rule(string id, string title, string message, DiagnosticSeverity severity, string description,
        params string[] tags) =>
        Register(new DiagnosticDescriptor(id, title, message, Category, severity, isEnabledByDefault: true,
            description: description + " See " + HelpLinkBase + id + ".md.", helpLinkUri: HelpLinkBase + id + ".md", customTags: tags));

    private static Dictionary<string, DiagnosticDescriptor>? _byId;

    private static DiagnosticDescriptor Register(DiagnosticDescriptor descriptor)
    {
        (_byId ??= new Dictionary<string, DiagnosticDescriptor>())[descriptor.Id] = descriptor;
        return descriptor;
    }

    /// <summary>The descriptor of a rule (for diagnostics that travel through the generators as plain values).</summary>
    public static DiagnosticDescriptor ById(string id) => _byId![id];

    /// <summary>Every descriptor, by ID.</summary>
    public static IReadOnlyDictionary<string, DiagnosticDescriptor> All => _byId!;

    public static readonly DiagnosticDescriptor NotPartial = Rule(NotPartialId,
        "A Lightning module must be partial",
        "'{0}' must be declared partial so the Lightning generator can add its training loop{1}",
        DiagnosticSeverity.Error,
        "The generator adds members to the module class (and to every type it is nested in), which is only possible for partial types.");

    public static readonly DiagnosticDescriptor NoTrainingStep = Rule(NoTrainingStepId,
        "A Lightning module needs a [TrainingStep] method",
        "Lightning module '{0}' has no [TrainingStep] method: the trainer has nothing to run per batch",
        DiagnosticSeverity.Error,
        "Add a method 'Tensor TrainingStep(TBatch batch, long batchIdx)' marked [TrainingStep] that returns the loss.");

    public static readonly DiagnosticDescriptor NoOptimizer = Rule(NoOptimizerId,
        "A Lightning module needs an optimizer",
        "Lightning module '{0}' has no [ConfigureOptimizers] method: nothing would update its weights",
        DiagnosticSeverity.Error,
        "Add a method marked [ConfigureOptimizers] that returns an optimizer over parameters(), e.g. torch.optim.Adam(parameters()).");

    public static readonly DiagnosticDescriptor BadOptimizerReturn = Rule(BadOptimizerReturnId,
        "[ConfigureOptimizers] must return one optimizer",
        "[ConfigureOptimizers] method '{0}' {1}",
        DiagnosticSeverity.Error,
        "Under automatic optimization a module has exactly one optimizer (optionally with a learning-rate scheduler, through Lightning.Optimization).");

    public static readonly DiagnosticDescriptor ManualOptimizationCall = Rule(ManualOptimizationCallId,
        "Do not call backward(), step() or zero_grad() under automatic optimization",
        "'{0}' is called in training-step code of '{1}', but the trainer already does it after the step (automatic optimization)",
        DiagnosticSeverity.Error,
        "The generated loop calls backward(), the optimizer step and zero_grad() itself; calling them again trains twice per batch or drops gradients. Remove the call, or set [LightningModule(AutomaticOptimization = false)] to do it yourself.");

    public static readonly DiagnosticDescriptor StepSignature = Rule(StepSignatureId,
        "Step method has the wrong signature",
        "[{0}] method '{1}' {2}",
        DiagnosticSeverity.Error,
        "Step methods are instance methods taking (TBatch batch) or (TBatch batch, long batchIdx) (an int batchIdx works too); [TrainingStep] returns the loss as a Tensor; a module has at most one method per step, and all steps take the same batch type, which must hold at least one tensor.");

    public static readonly DiagnosticDescriptor HyperparameterType = Rule(HyperparameterTypeId,
        "Hyperparameter type cannot be saved",
        "Hyperparameter '{0}' has type '{1}', which cannot be written to JSON, checkpoints or command lines; use bool, int, long, float, double, string or an enum",
        DiagnosticSeverity.Error,
        "Hyperparameters are saved with every checkpoint and set from command lines, so they are limited to simple values.");

    public static readonly DiagnosticDescriptor HyperparameterDefault = Rule(HyperparameterDefaultId,
        "Hyperparameter needs a constant default",
        "Hyperparameter '{0}' needs a constant default value (e.g. '= 1e-3'), so the module can be rebuilt from saved hyperparameters",
        DiagnosticSeverity.Error,
        "The generated HParams record and Create(HParams) use the default for every hyperparameter that is not set.");

    public static readonly DiagnosticDescriptor HyperparameterNotSettable = Rule(HyperparameterNotSettableId,
        "Hyperparameter cannot be set",
        "Hyperparameter '{0}' {1}",
        DiagnosticSeverity.Error,
        "A hyperparameter is a primary-constructor parameter or a property with an init (or set) accessor, so Create(HParams) can set it.");

    public static readonly DiagnosticDescriptor NonConstantLogKey = Rule(NonConstantLogKeyId,
        "Log key is not a constant",
        "The key passed to Log is not a constant: it cannot get a compile-time slot and cannot be checked against monitored metrics",
        DiagnosticSeverity.Warning,
        "Use a string literal or a const string, e.g. Log(\"val_loss\", loss).");

    public static readonly DiagnosticDescriptor LogForbidden = Rule(LogForbiddenId,
        "Log is not allowed here",
        "Log cannot be called in {0} method '{1}': there is no loop whose metrics it could belong to",
        DiagnosticSeverity.Error,
        "As in PyTorch Lightning, logging is allowed in training, validation and test steps, not in [ConfigureOptimizers] or [PredictStep].");

    public static readonly DiagnosticDescriptor HostSync = Rule(HostSyncId,
        "Reading a tensor on the host in the training step",
        "'{0}' copies a tensor to the host in the training step of '{1}': on a GPU this waits for the device every batch",
        DiagnosticSeverity.Warning,
        "Log the tensor instead (Log(\"name\", tensor)); Lightning reads logged values only when it displays them.");

    public static readonly DiagnosticDescriptor MonitoredMetricNotLogged = Rule(MonitoredMetricNotLoggedId,
        "Monitored metric is never logged",
        "'{0}' is monitored here but no Log call of a Lightning module in this project logs it{1}",
        DiagnosticSeverity.Warning,
        "A callback that monitors a metric no step logs fails when it first runs (PyTorch Lightning: 'could not find the monitored key'). Check the name against your Log calls.",
        WellKnownDiagnosticTags.CompilationEnd);

    public static readonly DiagnosticDescriptor CallbackNotPartial = Rule(CallbackNotPartialId,
        "A [Callback] class must be partial",
        "'{0}' must be declared partial so the Lightning generator can add its hook implementations{1}",
        DiagnosticSeverity.Error,
        "The generator implements Lightning.ICallback for the class (and needs every type it is nested in to be partial).");

    public static readonly DiagnosticDescriptor HookSignature = Rule(HookSignatureId,
        "Hook method has the wrong signature",
        "'{0}' cannot be called by {1}: {2}",
        DiagnosticSeverity.Error,
        "A hook or [Callback] handler is an instance method returning void whose parameters are arguments the hook passes, by type, each at most once: Lightning.Trainer, the module (ILightningModule or its class), long batchIdx, Tensor loss, torch.optim.Optimizer, System.Exception.");

    public static readonly DiagnosticDescriptor CallbackAttributeMisuse = Rule(CallbackAttributeMisuseId,
        "Invalid [Callback] attribute",
        "[Callback] on '{0}' {1}",
        DiagnosticSeverity.Error,
        "On a method, [Callback(TrainerEvent.X)] names a defined event, with at most one of Every or Once (positive), in a [Callback] or [LightningModule] class.");

    public static readonly DiagnosticDescriptor HookNearMiss = Rule(HookNearMissId,
        "Method name is a near miss of a hook",
        "'{0}' is not a Lightning hook, so it is never called; did you mean '{1}'?",
        DiagnosticSeverity.Warning,
        "Only methods named exactly as a hook of Lightning.ICallback are called by the trainer. Rename the method, or give it another name if it is not meant as a hook.");

    public static readonly DiagnosticDescriptor ManualOptimizationOptions = Rule(ManualOptimizationOptionsId,
        "Manual optimization with gradient clipping or accumulation",
        "'{0}' optimizes manually, but the trainer is set up with {1}: the trainer does not step a manually optimized module's optimizer, so it cannot clip or accumulate",
        DiagnosticSeverity.Error,
        "Clip (torch.nn.utils.clip_grad_norm_) or accumulate in the training step of a module with AutomaticOptimization = false, or let the trainer optimize. The trainer throws the same error when the fit starts.");

    public static readonly DiagnosticDescriptor HyperparameterRange = Rule(HyperparameterRangeId,
        "Invalid hyperparameter range",
        "Hyperparameter '{0}' {1}",
        DiagnosticSeverity.Error,
        "Min and Max (inclusive) bound int, long, float and double hyperparameters, Choices list the values of a string one; Min must not exceed Max, and the default must lie in its own range, or the module could not be built with its defaults.");

    public static readonly DiagnosticDescriptor NotAModuleClass = Rule(NotAModuleClassId,
        "A Lightning module must be a concrete torch.nn.Module class",
        "Lightning module '{0}' {1}",
        DiagnosticSeverity.Error,
        "The generator adds a training loop to one concrete class that derives from torch.nn.Module (e.g. Module<Tensor, Tensor>): it registers the class's layers, switches train and eval mode and saves its weights.");
}
