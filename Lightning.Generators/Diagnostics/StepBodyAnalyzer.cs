using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using Lightning.Generators.Kernel;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace Lightning.Generators.Diagnostics;

/// <summary>
/// Checks the code of a module's methods: Log keys that are not constants (LTN0010), Log where Lightning forbids it
/// (LTN0011), and host syncs in training-step code (LTN0012; the kernel's <see cref="TrainingStepCode"/> says which
/// methods that is). These need method bodies bound, which an analyzer does once per compilation. Manual
/// optimization calls (LTN0005) are reported by the generator, which binds only calls named backward, step or
/// zero_grad, so they show even when the compiler skips analyzers.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class StepBodyAnalyzer : DiagnosticAnalyzer
{
    private static readonly ImmutableHashSet<string> HostSyncMethods =
        ImmutableHashSet.Create("item", "ToSingle", "ToDouble", "ToInt32", "ToInt64", "ToBoolean", "ToString", "data");

    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = ImmutableArray.Create(
        DiagnosticDescriptors.NonConstantLogKey,
        DiagnosticDescriptors.LogForbidden, DiagnosticDescriptors.HostSync);

    public override void Initialize(AnalysisContext context)
    {
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.EnableConcurrentExecution();
        context.RegisterCompilationStartAction(start =>
        {
            var known = KnownSymbols.Get(start.Compilation);
            if (known.LightningModuleAttribute is null) return;
            start.RegisterSymbolStartAction(symbolStart =>
            {
                var type = (INamedTypeSymbol)symbolStart.Symbol;
                var attribute = known.ModuleAttribute(type);
                if (attribute is null) return;
                var state = new TypeState(type, known);
                symbolStart.RegisterOperationAction(state.OnInvocation, OperationKind.Invocation);
                symbolStart.RegisterSymbolEndAction(state.OnEnd);
            }, SymbolKind.NamedType);
        });
    }

    /// <summary>What one module's methods call, gathered while its operations are analyzed and checked at the end.</summary>
    private sealed class TypeState(INamedTypeSymbol type, KnownSymbols known)
    {
        private readonly ConcurrentBag<(IMethodSymbol Method, Diagnostic Diagnostic)> _hostSyncs = new();

        public void OnInvocation(OperationAnalysisContext context)
        {
            var invocation = (IInvocationOperation)context.Operation;
            var caller = ContainingMethod(context.ContainingSymbol);
            if (caller is null || !SymbolEqualityComparer.Default.Equals(caller.ContainingType, type)) return;
            var target = invocation.TargetMethod;

            // The module's Log calls as the kernel defines them (the same calls the generator gives metric slots).
            if (invocation.Syntax is InvocationExpressionSyntax syntax && LogCalls.IsLogCall(syntax) && invocation.Arguments.Length > 0)
            {
                var key = invocation.Arguments.FirstOrDefault(a => a.Parameter?.Ordinal == 0)?.Value;
                if (key is not null && key.Type?.SpecialType == SpecialType.System_String && !key.ConstantValue.HasValue)
                    context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.NonConstantLogKey, key.Syntax.GetLocation()));
                var kinds = known.StepAttributes(caller).Select(s => s.Kind).ToList();
                var forbidden = kinds.Contains(StepKind.ConfigureOptimizers) ? "[ConfigureOptimizers]"
                    : kinds.Contains(StepKind.Predict) ? "[PredictStep]"
                    : null;
                if (forbidden is not null)
                    context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.LogForbidden, invocation.Syntax.GetLocation(), forbidden, caller.Name));
            }

            var receiver = target.IsStatic ? null : target.ContainingType;
            if (receiver is null) return;
            if (known.IsTensor(receiver) && HostSyncMethods.Contains(target.Name))
                _hostSyncs.Add((caller, Diagnostic.Create(DiagnosticDescriptors.HostSync, invocation.Syntax.GetLocation(), target.Name + "()", type.Name)));
        }

        public void OnEnd(SymbolAnalysisContext context)
        {
            if (_hostSyncs.IsEmpty) return;
            var trainingStepCode = TrainingStepCode.Methods(type, known, context.CancellationToken);
            foreach (var (method, diagnostic) in _hostSyncs)
                if (trainingStepCode.Contains(method.OriginalDefinition)) context.ReportDiagnostic(diagnostic);
        }
    }

    private static IMethodSymbol? ContainingMethod(ISymbol symbol)
    {
        for (var s = symbol; s is not null; s = s.ContainingSymbol)
            if (s is IMethodSymbol { MethodKind: not (MethodKind.AnonymousFunction or MethodKind.LocalFunction) } m) return m;
        return null;
    }
}
