namespace Lightning.Generators.Hyperparameters.Model;

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
/// <param name="DefaultValue">The default as a C# literal, or null when there is none (only in a module with LTN0008).</param>
/// <param name="IsStatic">A static property (only in a module with LTN0009): read through the class, not <c>this</c>.</param>
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
    bool IsStatic,
    RangeSpec? Range);
