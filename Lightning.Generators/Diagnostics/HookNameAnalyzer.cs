using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using Lightning.Generators.Callbacks;
using Lightning.Generators.Modules;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace Lightning.Generators.Diagnostics;

/// <summary>
/// Checks user callbacks (LTN0014-LTN0017): [Callback] classes are partial, hook methods and [Callback(event)] handlers
/// have signatures their hook can call, the attribute is used where it works, and near misses of hook names are
/// flagged. Also LTN0018: a fit of a manually optimized module with a trainer that clips or accumulates.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class CallbackAnalyzer : DiagnosticAnalyzer
{
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = ImmutableArray.Create(
        DiagnosticDescriptors.CallbackNotPartial, DiagnosticDescriptors.HookSignature, DiagnosticDescriptors.CallbackAttributeMisuse,
        DiagnosticDescriptors.HookNearMiss, DiagnosticDescriptors.ManualOptimizationOptions);

    public override void Initialize(AnalysisContext context)
    {
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.EnableConcurrentExecution();
        context.RegisterCompilationStartAction(start =>
        {
            var callbackAttribute = start.Compilation.GetTypeByMetadataName(HookCatalog.CallbackAttribute);
            var moduleAttribute = start.Compilation.GetTypeByMetadataName(Names.LightningModuleAttribute);
            if (callbackAttribute is not null && moduleAttribute is not null)
                start.RegisterSymbolAction(c => AnalyzeType(c, callbackAttribute, moduleAttribute), SymbolKind.NamedType);
            var trainer = start.Compilation.GetTypeByMetadataName(HookCatalog.TrainerType);
            var options = start.Compilation.GetTypeByMetadataName("Lightning.TrainerOptions");
            if (trainer is not null && options is not null && moduleAttribute is not null)
                start.RegisterOperationAction(c => AnalyzeFit(c, trainer, options, moduleAttribute), OperationKind.Invocation);
        });
    }

    // ------------------------------------------------------------------ callback classes and modules

    private static void AnalyzeType(SymbolAnalysisContext context, INamedTypeSymbol callbackAttribute, INamedTypeSymbol moduleAttribute)
    {
        var type = (INamedTypeSymbol)context.Symbol;
        bool isCallback = type.GetAttributes().Any(a => SymbolEqualityComparer.Default.Equals(a.AttributeClass, callbackAttribute));
        bool isModule = type.GetAttributes().Any(a => SymbolEqualityComparer.Default.Equals(a.AttributeClass, moduleAttribute));
        if (isCallback && !isModule) CheckPartial(context, type);

        foreach (var method in type.GetMembers().OfType<IMethodSymbol>())
        {
            if (method.MethodKind != MethodKind.Ordinary || method.IsImplicitlyDeclared) continue;
            var handlers = method.GetAttributes().Where(a => SymbolEqualityComparer.Default.Equals(a.AttributeClass, callbackAttribute)).ToList();
            if (handlers.Count > 0)
            {
                foreach (var attribute in handlers) CheckHandler(context, method, attribute, isCallback || isModule);
                continue;
            }
            if (!isCallback && !isModule) continue;
            if (HookCatalog.Find(method.Name) is Hook hook)
                CheckSignature(context, method, hook, "the hook " + hook.Name);
            else if (HookCatalog.NearMiss(method.Name) is string near && !method.IsOverride && method.ExplicitInterfaceImplementations.IsEmpty)
                context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.HookNearMiss, method.Locations[0], method.Name, near));
        }
    }

    private static void CheckPartial(SymbolAnalysisContext context, INamedTypeSymbol type)
    {
        for (var t = type; t is not null; t = t.ContainingType)
        {
            foreach (var reference in t.DeclaringSyntaxReferences)
            {
                if (reference.GetSyntax(context.CancellationToken) is TypeDeclarationSyntax declaration && !declaration.Modifiers.Any(SyntaxKind.PartialKeyword))
                {
                    var suffix = SymbolEqualityComparer.Default.Equals(t, type) ? "" : $" (it contains the [Callback] class '{type.Name}')";
                    context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.CallbackNotPartial, declaration.Identifier.GetLocation(), t.Name, suffix));
                    return;
                }
            }
        }
    }

    private static void CheckHandler(SymbolAnalysisContext context, IMethodSymbol method, AttributeData attribute, bool inCallbackOrModule)
    {
        var location = attribute.ApplicationSyntaxReference?.GetSyntax(context.CancellationToken).GetLocation() ?? method.Locations[0];
        void Misuse(string what) => context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.CallbackAttributeMisuse, location, method.Name, what));

        if (attribute.ConstructorArguments.Length != 1 || attribute.ConstructorArguments[0].Value is not int value)
        {
            Misuse("names no event: on a method, write [Callback(TrainerEvent.EpochCompleted)] (or another TrainerEvent)");
            return;
        }
        if (value < 0 || value >= HookCatalog.Events.Count)
        {
            Misuse($"names the event {value}, which is not a TrainerEvent ({string.Join(", ", HookCatalog.Events.Select(e => e.Event))})");
            return;
        }
        if (!inCallbackOrModule)
        {
            Misuse("is in a class that is neither [Callback] nor [LightningModule], so the handler is never called");
            return;
        }
        int every = 0, once = 0;
        foreach (var arg in attribute.NamedArguments)
        {
            if (arg.Key == "Every" && arg.Value.Value is int e) every = e;
            if (arg.Key == "Once" && arg.Value.Value is int o) once = o;
        }
        if (every < 0 || once < 0)
        {
            Misuse($"has {(every < 0 ? "Every = " + every : "Once = " + once)}; filters count events from 1, so it must be positive");
            return;
        }
        if (every > 0 && once > 0)
        {
            Misuse("sets both Every and Once; use one filter per [Callback] attribute (add a second attribute for another filter)");
            return;
        }
        var (evt, hookName, _) = HookCatalog.Events[value];
        CheckSignature(context, method, HookCatalog.Find(hookName)!, "TrainerEvent." + evt);
    }

    private static void CheckSignature(SymbolAnalysisContext context, IMethodSymbol method, Hook hook, string what)
    {
        string? problem = null;
        if (method.IsStatic) problem = "it is static; hooks are instance methods";
        else if (method.IsGenericMethod) problem = "it is generic";
        else if (!method.ReturnsVoid) problem = $"it returns '{method.ReturnType.ToDisplayString()}'; hooks return void";
        else
        {
            var seen = new HashSet<HookArg>();
            foreach (var p in method.Parameters)
            {
                if (p.RefKind != RefKind.None) { problem = $"parameter '{p.Name}' is passed by reference"; break; }
                if (HookCatalog.ArgFor(p.Type, out _) is not HookArg arg)
                {
                    problem = $"no hook passes a '{p.Type.ToDisplayString()}' (parameter '{p.Name}')";
                    break;
                }
                if (!hook.Args.Contains(arg)) { problem = $"{hook.Name} does not pass {Describe(arg)} (parameter '{p.Name}')"; break; }
                if (!seen.Add(arg)) { problem = $"{Describe(arg)} is taken twice (parameter '{p.Name}')"; break; }
            }
        }
        if (problem is null) return;
        var passes = string.Join(", ", hook.Args.Select(HookCatalogText));
        context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.HookSignature, method.Locations[0], method.Name, what,
            problem + $"; it passes ({passes}), any of them by type in any order"));
    }

    private static string Describe(HookArg arg) => arg switch
    {
        HookArg.Trainer => "the Trainer",
        HookArg.Module => "the module",
        HookArg.BatchIdx => "a batch index (long)",
        HookArg.Loss => "the loss (Tensor)",
        HookArg.Optimizer => "the optimizer",
        _ => "an exception",
    };

    private static string HookCatalogText(HookArg arg) => HookCatalog.ParameterType(arg).Replace("global::", "") + " " + HookCatalog.ParameterName(arg);

    // ------------------------------------------------------------------ manual optimization with clipping or accumulation

    private static void AnalyzeFit(OperationAnalysisContext context, INamedTypeSymbol trainer, INamedTypeSymbol optionsType, INamedTypeSymbol moduleAttribute)
    {
        var invocation = (IInvocationOperation)context.Operation;
        if (invocation.TargetMethod.Name != "Fit" || !SymbolEqualityComparer.Default.Equals(invocation.TargetMethod.ContainingType, trainer)) return;
        if (invocation.Arguments.Length == 0) return;
        var modelType = Unwrap(invocation.Arguments.First(a => a.Parameter?.Ordinal == 0).Value).Type;
        if (modelType is null || !IsManual(modelType, moduleAttribute)) return;
        var options = TrainerOptionsOf(invocation.Instance, trainer, optionsType);
        if (options is null) return;
        var settings = new List<string>();
        foreach (var assignment in options.Initializer?.Initializers.OfType<ISimpleAssignmentOperation>() ?? Enumerable.Empty<ISimpleAssignmentOperation>())
        {
            if (assignment.Target is not IPropertyReferenceOperation property) continue;
            var name = property.Property.Name;
            var constant = assignment.Value.ConstantValue;
            if (name == "GradientClipVal" && !(constant.HasValue && constant.Value is null)) settings.Add("GradientClipVal");
            if (name == "AccumulateGradBatches" && !(constant.HasValue && constant.Value is int k && k == 1)) settings.Add("AccumulateGradBatches");
        }
        if (settings.Count == 0) return;
        context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.ManualOptimizationOptions, invocation.Syntax.GetLocation(),
            modelType.Name, string.Join(" and ", settings)));
    }

    private static IOperation Unwrap(IOperation operation)
    {
        while (operation is IConversionOperation conversion) operation = conversion.Operand;
        return operation;
    }

    private static bool IsManual(ITypeSymbol type, INamedTypeSymbol moduleAttribute)
    {
        var attribute = type.GetAttributes().FirstOrDefault(a => SymbolEqualityComparer.Default.Equals(a.AttributeClass, moduleAttribute));
        return attribute is not null && attribute.NamedArguments.Any(a => a.Key == Names.AutomaticOptimization && a.Value.Value is false);
    }

    /// <summary>The <c>new TrainerOptions { ... }</c> a trainer was created with, through locals assigned once in the same method.</summary>
    private static IObjectCreationOperation? TrainerOptionsOf(IOperation? instance, INamedTypeSymbol trainer, INamedTypeSymbol optionsType)
    {
        var creation = Resolve(instance) as IObjectCreationOperation;
        if (creation is null || !SymbolEqualityComparer.Default.Equals(creation.Type, trainer) || creation.Arguments.Length == 0) return null;
        var options = Resolve(creation.Arguments[0].Value) as IObjectCreationOperation;
        return options is not null && SymbolEqualityComparer.Default.Equals(options.Type, optionsType) ? options : null;
    }

    /// <summary>Follows a local to the value it was declared with (when that is its only assignment in the method).</summary>
    private static IOperation? Resolve(IOperation? operation)
    {
        if (operation is null) return null;
        operation = Unwrap(operation);
        if (operation is not ILocalReferenceOperation local) return operation;
        var body = operation;
        while (body.Parent is not null) body = body.Parent;
        IOperation? value = null;
        int assignments = 0;
        foreach (var node in body.Descendants())
        {
            if (node is IVariableDeclaratorOperation declarator && SymbolEqualityComparer.Default.Equals(declarator.Symbol, local.Local) && declarator.Initializer is not null)
            {
                value = declarator.Initializer.Value;
                assignments++;
            }
            else if (node is ISimpleAssignmentOperation assignment && assignment.Target is ILocalReferenceOperation target && SymbolEqualityComparer.Default.Equals(target.Local, local.Local))
            {
                value = assignment.Value;
                assignments++;
            }
        }
        return assignments == 1 && value is not null ? Unwrap(value) : null;
    }
}
