using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Lightning.Generators.Helpers;
using Lightning.Generators.Hyperparameters;
using Lightning.Generators.Hyperparameters.Model;
using Lightning.Generators.Kernel;
using Lightning.Generators.Kernel.Model;
using Lightning.Generators.Modules.Model;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Lightning.Generators.Modules;

/// <summary>
/// Reads a <c>[LightningModule]</c> class into a <see cref="ModuleSpec"/> and checks its declaration: partial (LTN0001),
/// a concrete torch.nn.Module class (LTN0020), no manual optimization calls in training-step code (LTN0005),
/// a training step (LTN0002), one valid optimizer method (LTN0003, LTN0004), step signatures (LTN0006), hyperparameters
/// (LTN0007-LTN0009, LTN0019), hook methods and handlers (LTN0015, LTN0016). Each rule lives in the kernel; this parser
/// applies them once and keeps what they accept, so what is reported and what is generated never disagree.
/// </summary>
internal static class ModuleParser
{
    public static ModuleParse Parse(GeneratorAttributeSyntaxContext context, CancellationToken ct)
    {
        if (context.TargetSymbol is not INamedTypeSymbol type) return new ModuleParse(null, EquatableArray<DiagnosticInfo>.Empty);
        var compilation = context.SemanticModel.Compilation;
        var known = KnownSymbols.Get(compilation);
        var diagnostics = new DiagnosticList();

        bool partial = true;
        if (Declarations.FirstNonPartial(type, ct) is (var outer, var declaration))
        {
            partial = false;
            var suffix = SymbolEqualityComparer.Default.Equals(outer, type) ? "" : $" (it contains the Lightning module '{type.Name}')";
            diagnostics.Add(DiagnosticDescriptors.NotPartial, LocationInfo.From(declaration.Identifier), outer.Name, suffix);
        }
        ct.ThrowIfCancellationRequested();

        // A concrete torch.nn.Module class (LTN0020); a base type that does not bind is the compiler's error, not this rule's.
        bool isNnModule = known.IsNnModule(type);
        bool baseBinds = true;
        for (var t = type.BaseType; t is not null; t = t.BaseType) baseBinds &= t.TypeKind != TypeKind.Error;
        var genericOuter = Outers(type).FirstOrDefault(t => t.IsGenericType);
        string? notAModule = genericOuter is not null ? $"is nested in the generic type '{genericOuter.ToDisplayString()}'; declare it outside generic types"
            : type.IsGenericType ? "is generic; the generator needs one concrete class (mark a non-generic class that derives from it [LightningModule])"
            : type.IsAbstract ? "is abstract; mark the concrete class that derives from it [LightningModule]"
            : !isNnModule && baseBinds && known.NnModule is not null ? "does not derive from torch.nn.Module (e.g. Module<Tensor, Tensor>), so the trainer has no layers to train"
            : null;
        if (notAModule is not null)
            diagnostics.Add(DiagnosticDescriptors.NotAModuleClass, LocationInfo.From(type), type.Name, notAModule);

        // A generic or abstract class is not a module the generator can complete: its other rules wait until it is one
        // (they would describe a class that is not the one trained), and only the shared stand-ins are generated.
        bool concrete = !type.IsGenericType && !type.IsAbstract && genericOuter is null;
        var steps = concrete ? ReadSteps(type, known, diagnostics, ct) : new Steps();
        var primaryCtor = Declarations.PrimaryConstructor(type);
        int before = diagnostics.Count;
        var hparams = concrete ? HyperparameterParser.Read(type, primaryCtor, known, compilation, diagnostics, ct) : new List<Hyperparameters.Model.HyperparameterSpec>();
        bool hyperparameterErrors = diagnostics.Count > before;
        var hooks = concrete ? HookRules.Bindings(type, known, diagnostics, ct) : EquatableArray<HookBinding>.Empty;
        bool automatic = known.ModuleAttribute(type) is not { } moduleAttribute || KnownSymbols.AutomaticOptimization(moduleAttribute);
        if (concrete && automatic) TrainingStepCode.CheckManualOptimizationCalls(type, known, compilation, diagnostics, ct);

        bool canCreate = primaryCtor is not null
            ? primaryCtor.Parameters.All(p => p.HasExplicitDefaultValue || known.HyperparameterOf(p) is not null)
              && primaryCtor.DeclaredAccessibility is Accessibility.Public or Accessibility.Internal
            : type.InstanceConstructors.Any(c => c.Parameters.Length == 0 && c.DeclaredAccessibility is Accessibility.Public or Accessibility.Internal);
        var create = !canCreate ? CreateMode.None
            : hyperparameterErrors || hparams.Any(h => h.DefaultValue is null) || !isNnModule ? CreateMode.Stub
            : CreateMode.Real;

        var (ns, containing, metadataName) = Declarations.Place(type);
        var spec = new ModuleSpec(
            // A generic class's metadata name (Net`1) keeps its file apart from a non-generic class of the same name.
            HintName: (ns.Length > 0 ? ns + "." : "") + metadataName + (type.IsGenericType ? "`" + type.Arity : "") + ".Lightning.g.cs",
            Namespace: ns,
            ContainingTypes: containing,
            Name: type.Name,
            FullName: type.ToDisplayString(Declarations.TypeFormat),
            CanExtend: partial && concrete,
            // Stand-ins name the class; a generic one's only when its type parameters have no constraints to repeat.
            VisibleInAssembly: Declarations.VisibleInAssembly(type) && type.TypeParameters.All(Unconstrained) && genericOuter is null,
            TypeParameters: string.Join(", ", type.TypeParameters.Select(p => p.Name)),
            AutomaticOptimization: automatic,
            Hyperparameters: hparams.ToEquatableArray(),
            Create: create,
            // Without torch.nn.Module the module cannot implement the trainer's interfaces: stand-ins instead.
            Batch: isNnModule ? steps.Batch : null,
            Training: steps.Training,
            Validation: steps.Validation,
            Test: steps.Test,
            Predict: steps.Predict,
            ConfigureOptimizersMethod: steps.ConfigureOptimizers,
            LogKeys: LogKeys(type, compilation, ct).ToEquatableArray(),
            Hooks: hooks);
        return new ModuleParse(spec, diagnostics.ToEquatableArray());
    }

    private static IEnumerable<INamedTypeSymbol> Outers(INamedTypeSymbol type)
    {
        for (var t = type.ContainingType; t is not null; t = t.ContainingType) yield return t;
    }

    private static bool Unconstrained(ITypeParameterSymbol p) =>
        p.ConstraintTypes.IsEmpty && !p.HasReferenceTypeConstraint && !p.HasValueTypeConstraint && !p.HasUnmanagedTypeConstraint
        && !p.HasNotNullConstraint && !p.HasConstructorConstraint && !p.AllowsRefLikeType;

    // ------------------------------------------------------------------ steps

    private sealed class Steps
    {
        public TypeShape? Batch;
        public StepSpec? Training, Validation, Test, Predict;
        public string? ConfigureOptimizers;
    }

    private static Steps ReadSteps(INamedTypeSymbol type, KnownSymbols known, DiagnosticList diagnostics, CancellationToken ct)
    {
        var declared = new Dictionary<StepKind, IMethodSymbol>();
        var optimizers = new List<IMethodSymbol>();
        var methods = type.GetMembers().OfType<IMethodSymbol>().Where(m => m.MethodKind == MethodKind.Ordinary).ToList();
        foreach (var method in methods)
        {
            foreach (var (_, kind) in known.StepAttributes(method))
            {
                if (kind == StepKind.ConfigureOptimizers) optimizers.Add(method);
                else if (!declared.ContainsKey(kind)) declared[kind] = method;
                else diagnostics.Add(DiagnosticDescriptors.StepSignature, LocationInfo.From(method), kind.AttributeName(), method.Name,
                    $"is a second [{kind.AttributeName()}] method; a module has one (the first is '{declared[kind].Name}')");
            }
        }
        ct.ThrowIfCancellationRequested();

        var steps = new Steps();
        declared.TryGetValue(StepKind.Training, out var training);
        if (training is null)
            diagnostics.Add(DiagnosticDescriptors.NoTrainingStep, LocationInfo.From(type), type.Name);

        // The module's batch type: the training step's when its declaration names one; else another step's; else that of
        // a method named like a training step that lacks its attribute (so the interfaces the user's code relies on stay).
        var trainingBatch = training is null ? null : StepRules.DeclaredBatchType(training, known);
        var batch = trainingBatch
            ?? new[] { StepKind.Validation, StepKind.Test, StepKind.Predict }
                .Select(k => declared.TryGetValue(k, out var m) ? StepRules.DeclaredBatchType(m, known) : null).FirstOrDefault(t => t is not null)
            ?? (training is null ? methods.Where(StepRules.LooksLikeTrainingStep).Select(m => StepRules.DeclaredBatchType(m, known)).FirstOrDefault(t => t is not null) : null);
        if (batch is not null) steps.Batch = TypeShapes.ShapeOf(batch, known);

        foreach (var entry in declared.OrderBy(kv => kv.Key))
        {
            var (kind, method) = (entry.Key, entry.Value);
            var problems = StepRules.Problems(method, kind, known, trainingBatch);
            foreach (var (location, problem) in problems)
                diagnostics.Add(DiagnosticDescriptors.StepSignature, location, kind.AttributeName(), method.Name, problem);
            bool binds = method.Parameters.All(p => p.Type.TypeKind != TypeKind.Error) && method.ReturnType.TypeKind != TypeKind.Error;
            bool callable = problems.Count == 0 && binds && batch is not null && KnownSymbols.Same(method.Parameters[0].Type, batch);
            string? returnType = method.ReturnsVoid || method.ReturnType.TypeKind == TypeKind.Error || method.ReturnsByRef
                ? null : method.ReturnType.ToDisplayString(Declarations.TypeFormat);
            var spec = new StepSpec(
                MethodName: method.Name,
                Callable: callable,
                BatchIndex: callable ? StepRules.BatchIndexOf(method) : BatchIndexKind.None,
                ReturnType: returnType,
                Output: kind == StepKind.Predict && returnType is not null ? TypeShapes.ShapeOf(method.ReturnType, known) : null);
            switch (kind)
            {
                case StepKind.Training: steps.Training = spec; break;
                case StepKind.Validation: steps.Validation = spec; break;
                case StepKind.Test: steps.Test = spec; break;
                case StepKind.Predict: steps.Predict = spec; break;
            }
        }

        var ordered = optimizers
            .OrderBy(m => m.Locations[0].SourceTree?.FilePath, System.StringComparer.Ordinal).ThenBy(m => m.Locations[0].SourceSpan.Start).ToList();
        if (ordered.Count == 0)
            diagnostics.Add(DiagnosticDescriptors.NoOptimizer, LocationInfo.From(type), type.Name);
        foreach (var m in ordered.Skip(1))
            diagnostics.Add(DiagnosticDescriptors.BadOptimizerReturn, LocationInfo.From(m), m.Name,
                "is a second [ConfigureOptimizers] method (a module has one optimizer under automatic optimization)");
        if (ordered.Count > 0)
        {
            var first = ordered[0];
            if (StepRules.OptimizerProblem(first, known) is (var location, var problem))
                diagnostics.Add(DiagnosticDescriptors.BadOptimizerReturn, location, first.Name, problem);
            else if (first.ReturnType.TypeKind != TypeKind.Error)
                steps.ConfigureOptimizers = first.Name;
        }
        return steps;
    }

    // ------------------------------------------------------------------ Log keys

    /// <summary>Every constant key passed to <c>Log(...)</c> in the class's own declarations, in order of appearance.</summary>
    private static List<string> LogKeys(INamedTypeSymbol type, Compilation compilation, CancellationToken ct)
    {
        var keys = new List<string>();
        foreach (var reference in type.DeclaringSyntaxReferences)
        {
            if (reference.GetSyntax(ct) is not TypeDeclarationSyntax declaration) continue;
            SemanticModel? model = null;
            foreach (var invocation in declaration.DescendantNodes().OfType<InvocationExpressionSyntax>())
            {
                ct.ThrowIfCancellationRequested();
                if (!LogCalls.IsLogCall(invocation) || invocation.ArgumentList.Arguments.Count == 0) continue;
                if (invocation.Ancestors().OfType<TypeDeclarationSyntax>().First() != declaration) continue;
                var key = LogCalls.KeyExpression(invocation) is LiteralExpressionSyntax
                    ? LogCalls.ConstantKey(invocation, null, ct)
                    : LogCalls.ConstantKey(invocation, model ??= compilation.GetSemanticModel(declaration.SyntaxTree), ct);
                if (key is not null && !keys.Contains(key)) keys.Add(key);
            }
        }
        return keys;
    }
}
