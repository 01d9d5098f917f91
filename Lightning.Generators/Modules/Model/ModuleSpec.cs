using Lightning.Generators.Helpers;
using Lightning.Generators.Hyperparameters.Model;
using Lightning.Generators.Kernel;
using Lightning.Generators.Kernel.Model;

namespace Lightning.Generators.Modules.Model;

/// <summary>What the parser found in one <c>[LightningModule]</c> class: the spec to emit (null when nothing can be) and its diagnostics.</summary>
internal sealed record ModuleParse(ModuleSpec? Spec, EquatableArray<DiagnosticInfo> Diagnostics);

/// <summary>
/// Everything the emitter needs to write <c>Foo.Lightning.g.cs</c> for one <c>[LightningModule]</c> class.
/// Plain strings and records only (no symbols, syntax nodes or locations), so equal classes give equal specs
/// and the generator's output is cached between edits. A module with mistakes still gets a spec: the emitter writes
/// what compiles (stand-ins that throw where a step or the optimizer could not be wired), so the user's code that
/// refers to generated members keeps compiling and the LTN diagnostic is the only error.
/// </summary>
/// <param name="CanExtend">False when the generator cannot add to the class: it (or a type it is nested in) is not partial (LTN0001), or it is generic or abstract (LTN0020).</param>
/// <param name="VisibleInAssembly">The class can be named from a top-level class (for the stand-ins of a module that cannot implement the trainer's interfaces).</param>
/// <param name="TypeParameters">A generic class's type parameters ("T, U"), which the stand-ins take too; empty otherwise.</param>
/// <param name="Batch">The batch type of the module's interfaces, or null when no step names one or the class is not a torch.nn.Module (LTN0020).</param>
/// <param name="ConfigureOptimizersMethod">The [ConfigureOptimizers] method the trainer calls, or null (LTN0003, LTN0004).</param>
internal sealed record ModuleSpec(
    string HintName,
    string Namespace,
    EquatableArray<ContainingTypeSpec> ContainingTypes,
    string Name,
    string FullName,
    bool CanExtend,
    bool VisibleInAssembly,
    string TypeParameters,
    bool AutomaticOptimization,
    EquatableArray<HyperparameterSpec> Hyperparameters,
    CreateMode Create,
    TypeShape? Batch,
    StepSpec? Training,
    StepSpec? Validation,
    StepSpec? Test,
    StepSpec? Predict,
    string? ConfigureOptimizersMethod,
    EquatableArray<string> LogKeys,
    EquatableArray<HookBinding> Hooks);

/// <summary>A declared step method.</summary>
/// <param name="Callable">True when the generated loop calls it; false when its signature has an LTN0006 problem (the loop is a stand-in).</param>
/// <param name="ReturnType">The return type (a predict step's output), or null when it is void or does not bind.</param>
/// <param name="Output">The tensor structure of a callable predict step's output.</param>
internal sealed record StepSpec(
    string MethodName,
    bool Callable,
    BatchIndexKind BatchIndex,
    string? ReturnType,
    TypeShape? Output);
