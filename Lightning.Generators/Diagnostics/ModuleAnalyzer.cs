using System.Collections.Immutable;
using System.Linq;
using Lightning.Generators.Hyperparameters;
using Lightning.Generators.Modules;
using Lightning.Generators.Modules.Model;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Lightning.Generators.Diagnostics;

/// <summary>
/// Checks the declaration of each <c>[LightningModule]</c> class: partial, a training step, one optimizer, step
/// signatures and batch types, and hyperparameters and their ranges (LTN0001-LTN0004, LTN0006-LTN0009, LTN0019).
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class ModuleAnalyzer : DiagnosticAnalyzer
{
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = ImmutableArray.Create(
        DiagnosticDescriptors.NotPartial, DiagnosticDescriptors.NoTrainingStep, DiagnosticDescriptors.NoOptimizer,
        DiagnosticDescriptors.BadOptimizerReturn, DiagnosticDescriptors.StepSignature, DiagnosticDescriptors.HyperparameterType,
        DiagnosticDescriptors.HyperparameterDefault, DiagnosticDescriptors.HyperparameterNotSettable, DiagnosticDescriptors.HyperparameterRange);

    public override void Initialize(AnalysisContext context)
    {
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.EnableConcurrentExecution();
        context.RegisterCompilationStartAction(start =>
        {
            var moduleAttribute = start.Compilation.GetTypeByMetadataName(Names.LightningModuleAttribute);
            if (moduleAttribute is null) return;
            var known = new KnownTypes(start.Compilation);
            start.RegisterSymbolAction(c => AnalyzeType(c, moduleAttribute, known), SymbolKind.NamedType);
            start.RegisterSymbolAction(AnalyzeStrayHyperparameter, SymbolKind.Method);
            start.RegisterSyntaxNodeAction(c => AnalyzeInitializer(c, moduleAttribute), SyntaxKind.PropertyDeclaration);
        });
    }

    private static void AnalyzeType(SymbolAnalysisContext context, INamedTypeSymbol moduleAttribute, KnownTypes known)
    {
        var type = (INamedTypeSymbol)context.Symbol;
        if (Names.ModuleAttribute(type, moduleAttribute) is null) return;

        CheckPartial(context, type);
        var methods = type.GetMembers().OfType<IMethodSymbol>().ToList();

        IMethodSymbol? training = null;
        ITypeSymbol? batchType = null;
        foreach (var method in methods)
        {
            foreach (var (attribute, kind) in StepAttributes(method))
            {
                if (kind == Names.TrainingStepAttribute && training is null)
                {
                    training = method;
                    if (method.Parameters.Length > 0) batchType = method.Parameters[0].Type;
                }
                CheckStep(context, method, attribute, kind, known);
            }
        }
        if (training is null)
            context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.NoTrainingStep, type.Locations[0], type.Name));

        // Every step takes the training step's batch type.
        if (batchType is not null)
            foreach (var method in methods)
                foreach (var (attribute, kind) in StepAttributes(method))
                    if (kind != Names.TrainingStepAttribute && method.Parameters.Length > 0 &&
                        !SymbolEqualityComparer.Default.Equals(method.Parameters[0].Type.WithNullableAnnotation(NullableAnnotation.None), batchType.WithNullableAnnotation(NullableAnnotation.None)))
                        Report(context, DiagnosticDescriptors.StepSignature, ParameterLocation(method, 0), ShortName(kind), method.Name,
                            $"takes a batch of type '{method.Parameters[0].Type.ToDisplayString()}', but the [TrainingStep] takes '{batchType.ToDisplayString()}': every step must take the same batch type");

        var optimizers = methods.Where(m => StepAttributes(m).Any(s => s.Kind == Names.ConfigureOptimizersAttribute))
            .OrderBy(m => m.Locations[0].SourceTree?.FilePath, System.StringComparer.Ordinal).ThenBy(m => m.Locations[0].SourceSpan.Start).ToList();
        if (optimizers.Count == 0)
            context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.NoOptimizer, type.Locations[0], type.Name));
        foreach (var m in optimizers.Skip(1))
            Report(context, DiagnosticDescriptors.BadOptimizerReturn, m.Locations[0], m.Name, "is a second [ConfigureOptimizers] method (a module has one optimizer under automatic optimization)");
        if (optimizers.Count > 0) CheckConfigureOptimizers(context, optimizers[0], known);

        CheckHyperparameters(context, type);
    }

    // ------------------------------------------------------------------ partial

    private static void CheckPartial(SymbolAnalysisContext context, INamedTypeSymbol type)
    {
        for (var t = type; t is not null; t = t.ContainingType)
        {
            foreach (var reference in t.DeclaringSyntaxReferences)
            {
                if (reference.GetSyntax(context.CancellationToken) is TypeDeclarationSyntax declaration && !declaration.Modifiers.Any(SyntaxKind.PartialKeyword))
                {
                    var suffix = SymbolEqualityComparer.Default.Equals(t, type) ? "" : $" (it contains the Lightning module '{type.Name}')";
                    context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.NotPartial, declaration.Identifier.GetLocation(), t.Name, suffix));
                    return;
                }
            }
        }
    }

    // ------------------------------------------------------------------ steps

    private static System.Collections.Generic.IEnumerable<(AttributeData Attribute, string Kind)> StepAttributes(IMethodSymbol method)
    {
        foreach (var a in method.GetAttributes())
            if (Names.StepKind(a) is string kind) yield return (a, kind);
    }

    private static void CheckStep(SymbolAnalysisContext context, IMethodSymbol method, AttributeData attribute, string kind, KnownTypes known)
    {
        if (kind == Names.ConfigureOptimizersAttribute) return;
        var step = ShortName(kind);
        if (method.IsStatic) { Report(context, DiagnosticDescriptors.StepSignature, method.Locations[0], step, method.Name, "is static; steps are instance methods of the module"); return; }
        if (method.IsGenericMethod) { Report(context, DiagnosticDescriptors.StepSignature, method.Locations[0], step, method.Name, "is generic; the batch type must be a concrete type"); return; }
        if (method.Parameters.Length is < 1 or > 2)
        {
            Report(context, DiagnosticDescriptors.StepSignature, method.Locations[0], step, method.Name,
                $"takes {method.Parameters.Length} parameters; expected (TBatch batch) or (TBatch batch, long batchIdx)");
            return;
        }
        if (method.Parameters.Length == 2 && method.Parameters[1].Type.SpecialType is not (SpecialType.System_Int64 or SpecialType.System_Int32))
            Report(context, DiagnosticDescriptors.StepSignature, ParameterLocation(method, 1), step, method.Name,
                $"takes a batch index of type '{method.Parameters[1].Type.ToDisplayString()}'; expected long");
        if (method.Parameters.Any(p => p.RefKind != RefKind.None))
            Report(context, DiagnosticDescriptors.StepSignature, method.Locations[0], step, method.Name, "has a ref, out or in parameter; steps take their arguments by value");
        if (!ModuleParser.ShapeOf(method.Parameters[0].Type, 0).HasTensors)
            Report(context, DiagnosticDescriptors.StepSignature, ParameterLocation(method, 0), step, method.Name,
                $"takes a batch of type '{method.Parameters[0].Type.ToDisplayString()}', which holds no tensor the trainer can move to the device (use a Tensor, a value tuple, a record with Tensor properties, or Tensor[])");
        if (kind == Names.TrainingStepAttribute && !ModuleParser.IsTensor(method.ReturnType))
            Report(context, DiagnosticDescriptors.StepSignature, ReturnLocation(method), step, method.Name,
                $"returns '{method.ReturnType.ToDisplayString()}'; a training step returns the loss as a Tensor (or null to skip the batch)");
        if (kind == Names.PredictStepAttribute && method.ReturnsVoid)
            Report(context, DiagnosticDescriptors.StepSignature, ReturnLocation(method), step, method.Name, "returns void; a prediction step returns its prediction");
    }

    private static void CheckConfigureOptimizers(SymbolAnalysisContext context, IMethodSymbol method, KnownTypes known)
    {
        if (method.Parameters.Length != 0)
            Report(context, DiagnosticDescriptors.BadOptimizerReturn, method.Locations[0], method.Name, $"takes {method.Parameters.Length} parameter(s)");
        else if (method.IsStatic)
            Report(context, DiagnosticDescriptors.BadOptimizerReturn, method.Locations[0], method.Name, "is static");
        else if (!known.IsOptimization(method.ReturnType))
            Report(context, DiagnosticDescriptors.BadOptimizerReturn, ReturnLocation(method), method.Name, $"returns '{method.ReturnType.ToDisplayString()}'");
    }

    // ------------------------------------------------------------------ hyperparameters

    private static void CheckHyperparameters(SymbolAnalysisContext context, INamedTypeSymbol type)
    {
        foreach (var member in type.GetMembers())
        {
            if (member is IPropertySymbol property && ModuleParser.HasAttribute(property, Names.HyperparameterAttribute, out var attribute))
            {
                CheckHyperparameterType(context, property.Name, property.Type, property.Locations[0]);
                CheckRange(context, property.Name, property.Type, attribute, property.Locations[0]);
                // A default outside the range is reported by AnalyzeInitializer, which has the constant.
                if (property.SetMethod is null || property.IsStatic)
                    Report(context, DiagnosticDescriptors.HyperparameterNotSettable, property.Locations[0], property.Name,
                        property.IsStatic ? "is static; hyperparameters belong to each module instance" : "has no init or set accessor; add '{ get; init; }'");
                var initializer = property.DeclaringSyntaxReferences.Select(r => r.GetSyntax(context.CancellationToken)).OfType<PropertyDeclarationSyntax>()
                    .Select(p => p.Initializer?.Value).FirstOrDefault(v => v is not null);
                if (initializer is null)
                    Report(context, DiagnosticDescriptors.HyperparameterDefault, property.Locations[0], property.Name);
                // A non-constant initializer is reported by AnalyzeInitializer, which has a semantic model.
            }
        }

        var primary = ModuleParser.PrimaryConstructor(type);
        if (primary is null) return;
        foreach (var parameter in primary.Parameters)
        {
            if (!ModuleParser.HasAttribute(parameter, Names.HyperparameterAttribute, out var attribute)) continue;
            CheckHyperparameterType(context, parameter.Name, parameter.Type, parameter.Locations[0]);
            var declared = CheckRange(context, parameter.Name, parameter.Type, attribute, parameter.Locations[0]);
            if (!parameter.HasExplicitDefaultValue)
                Report(context, DiagnosticDescriptors.HyperparameterDefault, parameter.Locations[0], parameter.Name);
            else if (RangeParser.DefaultProblem(declared, parameter.ExplicitDefaultValue) is string problem)
            {
                var location = parameter.DeclaringSyntaxReferences.FirstOrDefault()?.GetSyntax(context.CancellationToken) is ParameterSyntax { Default.Value: { } value }
                    ? value.GetLocation() : parameter.Locations[0];
                Report(context, DiagnosticDescriptors.HyperparameterRange, location, parameter.Name, problem);
            }
        }
    }

    /// <summary>Min, Max and Choices that do not fit the hyperparameter's type or each other (LTN0019), on the attribute argument.</summary>
    private static RangeParser.Declared CheckRange(SymbolAnalysisContext context, string name, ITypeSymbol type, AttributeData attribute, Location fallback)
    {
        var declared = RangeParser.Read(attribute, ModuleParser.KindOf(type), type.ToDisplayString());
        foreach (var (argument, problem) in declared.Problems)
            Report(context, DiagnosticDescriptors.HyperparameterRange, ArgumentLocation(attribute, argument, context.CancellationToken) ?? fallback, name, problem);
        return declared;
    }

    private static Location? ArgumentLocation(AttributeData attribute, string argument, System.Threading.CancellationToken ct) =>
        attribute.ApplicationSyntaxReference?.GetSyntax(ct) is AttributeSyntax { ArgumentList: { } list }
            ? list.Arguments.FirstOrDefault(a => a.NameEquals?.Name.Identifier.ValueText == argument)?.GetLocation()
            : null;

    private static void CheckHyperparameterType(SymbolAnalysisContext context, string name, ITypeSymbol type, Location location)
    {
        if (ModuleParser.KindOf(type) == HyperparameterKind.Unsupported)
            Report(context, DiagnosticDescriptors.HyperparameterType, location, name, type.ToDisplayString());
    }

    /// <summary>A hyperparameter property of a module whose initializer is not a constant (LTN0008) or lies outside its range (LTN0019).</summary>
    private static void AnalyzeInitializer(SyntaxNodeAnalysisContext context, INamedTypeSymbol moduleAttribute)
    {
        var declaration = (PropertyDeclarationSyntax)context.Node;
        if (declaration.Initializer?.Value is not { } value || declaration.AttributeLists.Count == 0) return;
        if (context.SemanticModel.GetDeclaredSymbol(declaration, context.CancellationToken) is not { } property) return;
        if (!ModuleParser.HasAttribute(property, Names.HyperparameterAttribute, out var attribute)) return;
        if (Names.ModuleAttribute(property.ContainingType, moduleAttribute) is null) return;
        var constant = context.SemanticModel.GetConstantValue(value, context.CancellationToken);
        if (!constant.HasValue)
            context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.HyperparameterDefault, value.GetLocation(), property.Name));
        else if (RangeParser.DefaultProblem(RangeParser.Read(attribute, ModuleParser.KindOf(property.Type), property.Type.ToDisplayString()), constant.Value) is string problem)
            context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.HyperparameterRange, value.GetLocation(), property.Name, problem));
    }

    /// <summary>[Hyperparameter] on a parameter of an ordinary constructor or method: its value cannot be kept (LTN0009).</summary>
    private static void AnalyzeStrayHyperparameter(SymbolAnalysisContext context)
    {
        var method = (IMethodSymbol)context.Symbol;
        if (method.MethodKind == MethodKind.Constructor && ModuleParser.PrimaryConstructor(method.ContainingType) is { } primary
            && SymbolEqualityComparer.Default.Equals(primary, method)) return;
        foreach (var parameter in method.Parameters)
            if (ModuleParser.HasAttribute(parameter, Names.HyperparameterAttribute, out _))
                Report(context, DiagnosticDescriptors.HyperparameterNotSettable, parameter.Locations[0], parameter.Name,
                    "is a parameter of an ordinary constructor or method; only primary-constructor parameters (class Foo([Hyperparameter] int x = 1)) and init properties can be hyperparameters");
    }

    // ------------------------------------------------------------------ helpers

    private static string ShortName(string attribute) => attribute.Substring("Lightning.".Length, attribute.Length - "Lightning.".Length - "Attribute".Length);

    private static Location ParameterLocation(IMethodSymbol method, int index) =>
        method.Parameters[index].DeclaringSyntaxReferences.FirstOrDefault()?.GetSyntax() is ParameterSyntax { Type: { } t } ? t.GetLocation() : method.Locations[0];

    private static Location ReturnLocation(IMethodSymbol method) =>
        method.DeclaringSyntaxReferences.FirstOrDefault()?.GetSyntax() is MethodDeclarationSyntax m ? m.ReturnType.GetLocation() : method.Locations[0];

    private static void Report(SymbolAnalysisContext context, DiagnosticDescriptor descriptor, Location location, params object[] args) =>
        context.ReportDiagnostic(Diagnostic.Create(descriptor, location, args));

    /// <summary>TorchSharp and Lightning types the checks compare against.</summary>
    private sealed class KnownTypes(Compilation compilation)
    {
        private readonly INamedTypeSymbol? _optimizer = compilation.GetTypeByMetadataName("TorchSharp.torch+optim+Optimizer");
        private readonly INamedTypeSymbol? _optimization = compilation.GetTypeByMetadataName("Lightning.Optimization");

        public bool IsOptimization(ITypeSymbol type)
        {
            if (_optimization is not null && SymbolEqualityComparer.Default.Equals(type.WithNullableAnnotation(NullableAnnotation.None), _optimization)) return true;
            for (var t = type; t is not null; t = t.BaseType)
                if (_optimizer is not null && SymbolEqualityComparer.Default.Equals(t, _optimizer)) return true;
            return false;
        }
    }
}
