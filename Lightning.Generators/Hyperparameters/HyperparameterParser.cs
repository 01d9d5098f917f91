using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Threading;
using Lightning.Generators.Helpers;
using Lightning.Generators.Hyperparameters.Model;
using Lightning.Generators.Kernel;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Lightning.Generators.Hyperparameters;

/// <summary>
/// Reads a module's <c>[Hyperparameter]</c> members into specs and checks them (LTN0007, LTN0008, LTN0009, LTN0019),
/// one diagnostic per mistake. A hyperparameter whose type cannot be saved is left out of the spec (LTN0007 says why),
/// so the generated HParams always compiles.
/// </summary>
internal static class HyperparameterParser
{
    /// <summary>The module's hyperparameters: primary-constructor parameters first, then properties in declaration order.</summary>
    public static List<HyperparameterSpec> Read(INamedTypeSymbol type, IMethodSymbol? primaryCtor, KnownSymbols known, Compilation compilation,
        DiagnosticList diagnostics, CancellationToken ct)
    {
        var specs = new List<HyperparameterSpec>();
        if (primaryCtor is not null)
            foreach (var p in primaryCtor.Parameters)
                if (known.HyperparameterOf(p) is { } a && FromParameter(p, a, diagnostics, ct) is { } spec) specs.Add(spec);
        foreach (var member in type.GetMembers())
        {
            ct.ThrowIfCancellationRequested();
            if (member is IPropertySymbol prop && known.HyperparameterOf(prop) is { } a && FromProperty(prop, a, compilation, diagnostics, ct) is { } spec)
                specs.Add(spec);
        }
        return specs;
    }

    /// <summary>LTN0009 for a <c>[Hyperparameter]</c> on a parameter of an ordinary constructor or method (never a hyperparameter).</summary>
    public static DiagnosticInfo StrayParameter(IParameterSymbol parameter) => new(DiagnosticDescriptors.HyperparameterNotSettableId,
        LocationInfo.From(parameter), new[] { parameter.Name,
            "is a parameter of an ordinary constructor or method; only primary-constructor parameters (class Foo([Hyperparameter] int x = 1)) and init properties can be hyperparameters" }
            .ToEquatableArray());

    private static HyperparameterSpec? FromParameter(IParameterSymbol p, AttributeData attribute, DiagnosticList diagnostics, CancellationToken ct)
    {
        var kind = KindOf(p.Type);
        var location = LocationInfo.From(p);
        if (!CheckType(p.Name, p.Type, kind, location, diagnostics)) return null;
        var declared = CheckRange(p.Name, p.Type, kind, attribute, location, diagnostics, ct);
        string? literal = null;
        if (!p.HasExplicitDefaultValue)
            diagnostics.Add(DiagnosticDescriptors.HyperparameterDefault, location, p.Name);
        else
        {
            literal = Literal(p.ExplicitDefaultValue, p.Type);
            if (RangeParser.DefaultProblem(declared, p.ExplicitDefaultValue) is string problem)
            {
                var at = p.DeclaringSyntaxReferences.FirstOrDefault()?.GetSyntax(ct) is ParameterSyntax { Default.Value: { } value } ? LocationInfo.From(value) : location;
                diagnostics.Add(DiagnosticDescriptors.HyperparameterRange, at, p.Name, problem);
            }
        }
        return new HyperparameterSpec(
            MemberName: p.Name,
            PropertyName: Naming.Pascal(p.Name),
            JsonName: Naming.Snake(p.Name),
            Source: HyperparameterSource.ConstructorParameter,
            TypeName: p.Type.ToDisplayString(Declarations.TypeFormat),
            Kind: kind,
            DefaultValue: literal,
            Description: Description(attribute),
            IsStatic: false,
            Range: RangeParser.Spec(declared, kind));
    }

    private static HyperparameterSpec? FromProperty(IPropertySymbol prop, AttributeData attribute, Compilation compilation, DiagnosticList diagnostics, CancellationToken ct)
    {
        var kind = KindOf(prop.Type);
        var location = LocationInfo.From(prop);
        if (prop.SetMethod is null || prop.IsStatic)
            diagnostics.Add(DiagnosticDescriptors.HyperparameterNotSettable, location, prop.Name,
                prop.IsStatic ? "is static; hyperparameters belong to each module instance" : "has no init or set accessor; add '{ get; init; }'");
        if (!CheckType(prop.Name, prop.Type, kind, location, diagnostics)) return null;
        var declared = CheckRange(prop.Name, prop.Type, kind, attribute, location, diagnostics, ct);

        var initializer = prop.DeclaringSyntaxReferences.Select(r => r.GetSyntax(ct)).OfType<PropertyDeclarationSyntax>()
            .Select(p => p.Initializer?.Value).FirstOrDefault(v => v is not null);
        string? literal = null;
        if (initializer is null)
            diagnostics.Add(DiagnosticDescriptors.HyperparameterDefault, location, prop.Name);
        else
        {
            var constant = compilation.GetSemanticModel(initializer.SyntaxTree).GetConstantValue(initializer, ct);
            if (!constant.HasValue)
                diagnostics.Add(DiagnosticDescriptors.HyperparameterDefault, LocationInfo.From(initializer), prop.Name);
            else
            {
                literal = Literal(constant.Value, prop.Type);
                if (RangeParser.DefaultProblem(declared, constant.Value) is string problem)
                    diagnostics.Add(DiagnosticDescriptors.HyperparameterRange, LocationInfo.From(initializer), prop.Name, problem);
            }
        }
        return new HyperparameterSpec(
            MemberName: prop.Name,
            PropertyName: prop.Name,
            JsonName: Naming.Snake(prop.Name),
            Source: HyperparameterSource.Property,
            TypeName: prop.Type.ToDisplayString(Declarations.TypeFormat),
            Kind: kind,
            DefaultValue: literal,
            Description: Description(attribute),
            IsStatic: prop.IsStatic,
            Range: RangeParser.Spec(declared, kind));
    }

    /// <summary>False (with LTN0007 unless the type itself does not bind) when the type cannot be saved; such a member is not a hyperparameter of the spec.</summary>
    private static bool CheckType(string name, ITypeSymbol type, HyperparameterKind kind, LocationInfo? location, DiagnosticList diagnostics)
    {
        if (kind != HyperparameterKind.Unsupported) return true;
        if (type.TypeKind != TypeKind.Error)
            diagnostics.Add(DiagnosticDescriptors.HyperparameterType, location, name, type.ToDisplayString());
        return false;
    }

    /// <summary>Min, Max and Choices that do not fit the hyperparameter's type or each other (LTN0019), on the attribute argument.</summary>
    private static RangeParser.Declared CheckRange(string name, ITypeSymbol type, HyperparameterKind kind, AttributeData attribute, LocationInfo? fallback,
        DiagnosticList diagnostics, CancellationToken ct)
    {
        var declared = RangeParser.Read(attribute, kind, type.ToDisplayString());
        foreach (var (argument, problem) in declared.Problems)
            diagnostics.Add(DiagnosticDescriptors.HyperparameterRange, ArgumentLocation(attribute, argument, ct) ?? fallback, name, problem);
        return declared;
    }

    private static LocationInfo? ArgumentLocation(AttributeData attribute, string argument, CancellationToken ct) =>
        attribute.ApplicationSyntaxReference?.GetSyntax(ct) is AttributeSyntax { ArgumentList: { } list }
            ? LocationInfo.From(list.Arguments.FirstOrDefault(a => a.NameEquals?.Name.Identifier.ValueText == argument))
            : null;

    private static string? Description(AttributeData attribute)
    {
        foreach (var arg in attribute.NamedArguments)
            if (arg.Key == "Description" && arg.Value.Value is string s) return s;
        return null;
    }

    public static HyperparameterKind KindOf(ITypeSymbol type) => type.TypeKind == TypeKind.Enum
        ? HyperparameterKind.Enum
        : type.SpecialType switch
        {
            SpecialType.System_Boolean => HyperparameterKind.Boolean,
            SpecialType.System_Int32 => HyperparameterKind.Int32,
            SpecialType.System_Int64 => HyperparameterKind.Int64,
            SpecialType.System_Single => HyperparameterKind.Single,
            SpecialType.System_Double => HyperparameterKind.Double,
            SpecialType.System_String => HyperparameterKind.String,
            _ => HyperparameterKind.Unsupported,
        };

    /// <summary>A constant as a C# literal of <paramref name="type"/>, or null when it cannot be written.</summary>
    public static string? Literal(object? value, ITypeSymbol type)
    {
        var ci = CultureInfo.InvariantCulture;
        if (type.TypeKind == TypeKind.Enum && value is not null)
        {
            var typeName = type.ToDisplayString(Declarations.TypeFormat);
            foreach (var field in type.GetMembers().OfType<IFieldSymbol>())
                if (field.HasConstantValue && Equals(field.ConstantValue, value)) return typeName + "." + field.Name;
            return "(" + typeName + ")(" + System.Convert.ToString(value, ci) + ")";
        }
        return value switch
        {
            null => null,
            bool b => b ? "true" : "false",
            string s => SymbolDisplay.FormatLiteral(s, quote: true),
            float f when float.IsNaN(f) => "float.NaN",
            float f when float.IsInfinity(f) => f > 0 ? "float.PositiveInfinity" : "float.NegativeInfinity",
            float f => f.ToString("R", ci) + "F",
            double d when double.IsNaN(d) => "double.NaN",
            double d when double.IsInfinity(d) => d > 0 ? "double.PositiveInfinity" : "double.NegativeInfinity",
            double d => d.ToString("R", ci) + "D",
            long l => l.ToString(ci) + "L",
            int i => i.ToString(ci),
            _ => null,
        };
    }
}
