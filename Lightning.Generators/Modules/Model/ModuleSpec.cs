using Lightning.Generators.Helpers;

namespace Lightning.Generators.Modules.Model;

/// <summary>
/// Everything the emitter needs to write <c>Foo.Lightning.g.cs</c> for one <c>[LightningModule]</c> class.
/// Plain strings and records only (no symbols, syntax nodes or locations), so equal classes give equal specs
/// and the generator's output is cached between edits.
/// </summary>
internal sealed record ModuleSpec(
    string HintName,
    string Namespace,
    EquatableArray<ContainingTypeSpec> ContainingTypes,
    string Name,
    string FullName,
    bool IsSealed,
    bool AutomaticOptimization,
    EquatableArray<HyperparameterSpec> Hyperparameters,
    bool CanCreateFromHparams,
    StepSpec? Training,
    StepSpec? Validation,
    StepSpec? Test,
    StepSpec? Predict,
    string? ConfigureOptimizersMethod,
    EquatableArray<string> LogKeys,
    EquatableArray<Callbacks.Model.HookBinding> Hooks);

/// <summary>A type the module is nested in: its keyword (class, struct, record...) and name.</summary>
internal sealed record ContainingTypeSpec(string Keyword, string Name);

/// <summary>Where a hyperparameter is declared.</summary>
internal enum HyperparameterSource
{
    /// <summary>A primary-constructor parameter with a default value.</summary>
    ConstructorParameter,
    /// <summary>A property with an init (or set) accessor and an initializer.</summary>
    Property,
}

/// <summary>How a hyperparameter's value is read and written as JSON.</summary>
internal enum HyperparameterKind { Boolean, Int32, Int64, Single, Double, String, Enum, Unsupported }

/// <summary>One hyperparameter.</summary>
/// <param name="MemberName">The C# name as declared (a parameter or a property).</param>
/// <param name="PropertyName">The name of the HParams record's property (PascalCase).</param>
/// <param name="JsonName">The snake_case name used in JSON, tables and command lines.</param>
/// <param name="TypeName">The fully qualified type.</param>
/// <param name="DefaultValue">The default as a C# literal, or null when there is none.</param>
/// <param name="Range">The values it accepts ([Hyperparameter(Min = ..., Max = ..., Choices = ...)]), or null for any.</param>
internal sealed record HyperparameterSpec(
    string MemberName,
    string PropertyName,
    string JsonName,
    HyperparameterSource Source,
    string TypeName,
    HyperparameterKind Kind,
    string? DefaultValue,
    string? Description,
    Hyperparameters.Model.RangeSpec? Range);

/// <summary>A step method: its name, what it takes and what it returns.</summary>
internal sealed record StepSpec(
    string MethodName,
    TypeShape Batch,
    bool TakesBatchIndex,
    string ReturnType,
    bool ReturnsVoid,
    TypeShape? Output);

/// <summary>The kinds of value the generated device-transfer code knows how to walk.</summary>
internal enum ShapeKind
{
    /// <summary>A <c>torch.Tensor</c>.</summary>
    Tensor,
    /// <summary>A value tuple; members are its elements.</summary>
    Tuple,
    /// <summary>A record (class or struct); members are its tensor-bearing properties, rebuilt with <c>with</c>.</summary>
    Record,
    /// <summary>An array of tensors.</summary>
    TensorArray,
    /// <summary>Anything else: passed through unchanged.</summary>
    Other,
}

/// <summary>The structure of a batch (or prediction) type, as far as tensors are concerned.</summary>
internal sealed record TypeShape(ShapeKind Kind, string TypeName, EquatableArray<ShapeMember> Members)
{
    /// <summary>True when the value holds at least one tensor.</summary>
    public bool HasTensors => Kind is ShapeKind.Tensor or ShapeKind.TensorArray || Members.Count > 0;
}

/// <summary>A member of a tuple or record batch: how to reach it and what it holds.</summary>
internal sealed record ShapeMember(string Access, TypeShape Shape);
