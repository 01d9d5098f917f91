using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Threading;
using Lightning.Generators.Helpers;
using Lightning.Generators.Modules.Model;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Lightning.Generators.Modules;

/// <summary>
/// Reads a <c>[LightningModule]</c> class into a <see cref="ModuleSpec"/>. Returns null for shapes the generator
/// cannot complete (not partial, generic); the analyzers report those.
/// </summary>
internal static class ModuleParser
{
    private static readonly SymbolDisplayFormat TypeFormat = SymbolDisplayFormat.FullyQualifiedFormat
        .AddMiscellaneousOptions(SymbolDisplayMiscellaneousOptions.IncludeNullableReferenceTypeModifier);

    public static ModuleSpec? Parse(GeneratorAttributeSyntaxContext context, CancellationToken ct)
    {
        if (context.TargetSymbol is not INamedTypeSymbol type || context.TargetNode is not ClassDeclarationSyntax declaration)
            return null;
        if (!IsPartialChain(declaration) || type.IsGenericType || type.IsAbstract) return null;
        ct.ThrowIfCancellationRequested();

        var attribute = context.Attributes[0];
        bool automatic = true;
        foreach (var arg in attribute.NamedArguments)
            if (arg.Key == Names.AutomaticOptimization && arg.Value.Value is bool b) automatic = b;

        var primaryCtor = PrimaryConstructor(type);
        var hparams = new List<HyperparameterSpec>();
        if (primaryCtor is not null)
            foreach (var p in primaryCtor.Parameters)
                if (HasAttribute(p, Names.HyperparameterAttribute, out var a))
                    hparams.Add(FromParameter(p, a));
        foreach (var member in type.GetMembers())
        {
            ct.ThrowIfCancellationRequested();
            if (member is IPropertySymbol prop && HasAttribute(prop, Names.HyperparameterAttribute, out var a))
                hparams.Add(FromProperty(prop, a, context.SemanticModel.Compilation, ct));
        }

        StepSpec? training = null, validation = null, test = null, predict = null;
        string? configureOptimizers = null;
        foreach (var method in type.GetMembers().OfType<IMethodSymbol>())
        {
            foreach (var attr in method.GetAttributes())
            {
                switch (Names.StepKind(attr))
                {
                    case Names.TrainingStepAttribute: training ??= Step(method); break;
                    case Names.ValidationStepAttribute: validation ??= Step(method); break;
                    case Names.TestStepAttribute: test ??= Step(method); break;
                    case Names.PredictStepAttribute: predict ??= Step(method); break;
                    case Names.ConfigureOptimizersAttribute:
                        if (method.Parameters.Length == 0 && !method.ReturnsVoid) configureOptimizers ??= method.Name;
                        break;
                }
            }
        }

        bool canCreate = primaryCtor is not null
            ? primaryCtor.Parameters.All(p => p.HasExplicitDefaultValue || HasAttribute(p, Names.HyperparameterAttribute, out _))
              && primaryCtor.DeclaredAccessibility is Accessibility.Public or Accessibility.Internal
            : type.InstanceConstructors.Any(c => c.Parameters.Length == 0 && c.DeclaredAccessibility is Accessibility.Public or Accessibility.Internal);
        canCreate &= hparams.All(h => h.DefaultValue is not null && h.Kind != HyperparameterKind.Unsupported);

        var (ns, containing, metadataName) = Place(type);

        return new ModuleSpec(
            HintName: (ns.Length > 0 ? ns + "." : "") + metadataName + ".Lightning.g.cs",
            Namespace: ns,
            ContainingTypes: containing,
            Name: type.Name,
            FullName: type.ToDisplayString(TypeFormat),
            IsSealed: type.IsSealed,
            AutomaticOptimization: automatic,
            Hyperparameters: hparams.ToEquatableArray(),
            CanCreateFromHparams: canCreate,
            Training: training,
            Validation: validation,
            Test: test,
            Predict: predict,
            ConfigureOptimizersMethod: configureOptimizers,
            LogKeys: LogKeys(type, declaration, context.SemanticModel.Compilation, ct).ToEquatableArray(),
            Hooks: Callbacks.CallbackParser.Bindings(type, ct));
    }

    // ------------------------------------------------------------------ declarations

    /// <summary>Where a type is declared: its namespace, the types it is nested in, and its dotted name within the namespace.</summary>
    internal static (string Namespace, EquatableArray<ContainingTypeSpec> Containing, string MetadataName) Place(INamedTypeSymbol type)
    {
        var ns = type.ContainingNamespace.IsGlobalNamespace ? "" : type.ContainingNamespace.ToDisplayString();
        var containing = new List<ContainingTypeSpec>();
        for (var t = type.ContainingType; t is not null; t = t.ContainingType)
            containing.Insert(0, new ContainingTypeSpec(Keyword(t), t.Name));
        var metadataName = string.Join(".", containing.Select(c => c.Name).Concat(new[] { type.Name }));
        return (ns, containing.ToEquatableArray(), metadataName);
    }

    internal static bool IsPartialChain(ClassDeclarationSyntax declaration)
    {
        for (SyntaxNode? n = declaration; n is not null; n = n.Parent)
            if (n is TypeDeclarationSyntax t && !t.Modifiers.Any(SyntaxKind.PartialKeyword)) return false;
        return true;
    }

    internal static string Keyword(INamedTypeSymbol t) => t switch
    {
        { IsRecord: true, TypeKind: TypeKind.Struct } => "record struct",
        { IsRecord: true } => "record",
        { TypeKind: TypeKind.Struct } => "struct",
        { TypeKind: TypeKind.Interface } => "interface",
        _ => "class",
    };

    /// <summary>The primary constructor, whose syntax is the type declaration itself.</summary>
    internal static IMethodSymbol? PrimaryConstructor(INamedTypeSymbol type) =>
        type.InstanceConstructors.FirstOrDefault(c =>
            c.DeclaringSyntaxReferences.Length == 1 && c.DeclaringSyntaxReferences[0].GetSyntax() is TypeDeclarationSyntax);

    internal static bool HasAttribute(ISymbol symbol, string name, out AttributeData attribute)
    {
        foreach (var a in symbol.GetAttributes())
            if (a.AttributeClass?.ToDisplayString() == name) { attribute = a; return true; }
        attribute = null!;
        return false;
    }

    // ------------------------------------------------------------------ hyperparameters

    private static HyperparameterSpec FromParameter(IParameterSymbol p, AttributeData attribute) => new(
        MemberName: p.Name,
        PropertyName: Naming.Pascal(p.Name),
        JsonName: Naming.Snake(p.Name),
        Source: HyperparameterSource.ConstructorParameter,
        TypeName: p.Type.ToDisplayString(TypeFormat),
        Kind: KindOf(p.Type),
        DefaultValue: p.HasExplicitDefaultValue ? Literal(p.ExplicitDefaultValue, p.Type) : null,
        Description: Description(attribute),
        Range: Range(attribute, p.Type));

    private static HyperparameterSpec FromProperty(IPropertySymbol prop, AttributeData attribute, Compilation compilation, CancellationToken ct)
    {
        string? literal = null;
        foreach (var reference in prop.DeclaringSyntaxReferences)
        {
            if (reference.GetSyntax(ct) is PropertyDeclarationSyntax { Initializer.Value: var value })
            {
                var model = compilation.GetSemanticModel(value.SyntaxTree);
                var constant = model.GetConstantValue(value, ct);
                if (constant.HasValue) literal = Literal(constant.Value, prop.Type);
            }
        }
        return new HyperparameterSpec(
            MemberName: prop.Name,
            PropertyName: prop.Name,
            JsonName: Naming.Snake(prop.Name),
            Source: HyperparameterSource.Property,
            TypeName: prop.Type.ToDisplayString(TypeFormat),
            Kind: KindOf(prop.Type),
            DefaultValue: literal,
            Description: Description(attribute),
            Range: Range(attribute, prop.Type));
    }

    /// <summary>The valid part of the attribute's Min, Max and Choices (the analyzer reports the rest, LTN0019).</summary>
    private static Hyperparameters.Model.RangeSpec? Range(AttributeData attribute, ITypeSymbol type)
    {
        var kind = KindOf(type);
        return Hyperparameters.RangeParser.Spec(Hyperparameters.RangeParser.Read(attribute, kind, type.ToDisplayString()), kind);
    }

    private static string? Description(AttributeData attribute)
    {
        foreach (var arg in attribute.NamedArguments)
            if (arg.Key == "Description" && arg.Value.Value is string s) return s;
        return null;
    }

    internal static HyperparameterKind KindOf(ITypeSymbol type) => type.TypeKind == TypeKind.Enum
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
    internal static string? Literal(object? value, ITypeSymbol type)
    {
        var ci = CultureInfo.InvariantCulture;
        if (type.TypeKind == TypeKind.Enum && value is not null)
        {
            var typeName = type.ToDisplayString(TypeFormat);
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

    // ------------------------------------------------------------------ steps and batch shapes

    private static StepSpec? Step(IMethodSymbol method)
    {
        if (method.Parameters.Length is < 1 or > 2 || method.IsStatic || method.IsGenericMethod) return null;
        if (method.Parameters.Length == 2 && method.Parameters[1].Type.SpecialType is not (SpecialType.System_Int64 or SpecialType.System_Int32))
            return null;
        return new StepSpec(
            MethodName: method.Name,
            Batch: ShapeOf(method.Parameters[0].Type, 0),
            TakesBatchIndex: method.Parameters.Length == 2,
            ReturnType: method.ReturnType.ToDisplayString(TypeFormat),
            ReturnsVoid: method.ReturnsVoid,
            Output: method.ReturnsVoid ? null : ShapeOf(method.ReturnType, 0));
    }

    internal static TypeShape ShapeOf(ITypeSymbol type, int depth)
    {
        var name = type.ToDisplayString(TypeFormat);
        if (IsTensor(type)) return new TypeShape(ShapeKind.Tensor, name, EquatableArray<ShapeMember>.Empty);
        if (depth > 4) return new TypeShape(ShapeKind.Other, name, EquatableArray<ShapeMember>.Empty);
        if (type is IArrayTypeSymbol { Rank: 1 } array && IsTensor(array.ElementType))
            return new TypeShape(ShapeKind.TensorArray, name, EquatableArray<ShapeMember>.Empty);
        if (type is INamedTypeSymbol { IsTupleType: true } tuple)
        {
            var members = tuple.TupleElements.Select((e, i) => new ShapeMember("Item" + (i + 1).ToString(CultureInfo.InvariantCulture), ShapeOf(e.Type, depth + 1)));
            return new TypeShape(ShapeKind.Tuple, name, members.ToEquatableArray());
        }
        if (type is INamedTypeSymbol { IsRecord: true } record)
        {
            var members = record.GetMembers().OfType<IPropertySymbol>()
                .Where(p => !p.IsStatic && p.DeclaredAccessibility == Accessibility.Public && p.SetMethod is not null && !p.IsIndexer && p.Name != "EqualityContract")
                .Select(p => new ShapeMember(p.Name, ShapeOf(p.Type, depth + 1)))
                .Where(m => m.Shape.HasTensors);
            return new TypeShape(ShapeKind.Record, name, members.ToEquatableArray());
        }
        return new TypeShape(ShapeKind.Other, name, EquatableArray<ShapeMember>.Empty);
    }

    internal static bool IsTensor(ITypeSymbol type)
    {
        for (var t = type; t is not null; t = t.BaseType)
            if (t.Name == "Tensor" && t.ContainingType?.Name == "torch" && t.ContainingNamespace?.ToDisplayString() == "TorchSharp") return true;
        return false;
    }

    // ------------------------------------------------------------------ Log keys

    /// <summary>Every constant key passed to <c>Log(...)</c> in the class's own declarations, in order of appearance.</summary>
    private static List<string> LogKeys(INamedTypeSymbol type, ClassDeclarationSyntax target, Compilation compilation, CancellationToken ct)
    {
        var keys = new List<string>();
        foreach (var reference in type.DeclaringSyntaxReferences)
        {
            if (reference.GetSyntax(ct) is not TypeDeclarationSyntax declaration) continue;
            SemanticModel? model = null;
            foreach (var invocation in declaration.DescendantNodes().OfType<InvocationExpressionSyntax>())
            {
                ct.ThrowIfCancellationRequested();
                if (!IsLogCall(invocation) || invocation.ArgumentList.Arguments.Count == 0) continue;
                if (invocation.Ancestors().OfType<TypeDeclarationSyntax>().First() != declaration) continue;
                var arg = invocation.ArgumentList.Arguments[0].Expression;
                string? key = arg is LiteralExpressionSyntax literal && literal.IsKind(SyntaxKind.StringLiteralExpression)
                    ? literal.Token.ValueText
                    : (model ??= compilation.GetSemanticModel(declaration.SyntaxTree)).GetConstantValue(arg, ct) is { HasValue: true, Value: string s } ? s : null;
                if (key is not null && !keys.Contains(key)) keys.Add(key);
            }
        }
        return keys;
    }

    private static bool IsLogCall(InvocationExpressionSyntax invocation) => invocation.Expression switch
    {
        IdentifierNameSyntax id => id.Identifier.ValueText == "Log",
        MemberAccessExpressionSyntax { Expression: ThisExpressionSyntax, Name.Identifier.ValueText: "Log" } => true,
        _ => false,
    };
}
