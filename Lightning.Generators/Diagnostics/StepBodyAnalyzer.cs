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
/// Checks the code of a module's steps: manual backward()/step()/zero_grad() under automatic optimization
/// (LTN0005), Log keys that are not constants (LTN0010), Log where Lightning forbids it (LTN0011), and host
/// syncs in the training step (LTN0012). "Training-step code" is the [TrainingStep] method and the methods of
/// the same class it calls, directly or through others.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class StepBodyAnalyzer : DiagnosticAnalyzer
{
    private static readonly ImmutableHashSet<string> HostSyncMethods =
        ImmutableHashSet.Create("item", "ToSingle", "ToDouble", "ToInt32", "ToInt64", "ToBoolean", "ToString", "data");

    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = ImmutableArray.Create(
        DiagnosticDescriptors.ManualOptimizationCall, DiagnosticDescriptors.NonConstantLogKey,
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
                var state = new TypeState(type, KnownSymbols.AutomaticOptimization(attribute), known);
                symbolStart.RegisterOperationAction(state.OnInvocation, OperationKind.Invocation);
                symbolStart.RegisterSymbolEndAction(state.OnEnd);
            }, SymbolKind.NamedType);
        });
    }

    /// <summary>What one module's methods call, gathered while its operations are analyzed and checked at the end.</summary>
    private sealed class TypeState(INamedTypeSymbol type, bool automatic, KnownSymbols known)
    {
        private readonly ConcurrentDictionary<IMethodSymbol, ConcurrentBag<IMethodSymbol>> _calls = new(SymbolEqualityComparer.Default);
        private readonly ConcurrentBag<(IMethodSymbol Method, Diagnostic Diagnostic)> _manual = new();
        private readonly ConcurrentBag<(IMethodSymbol Method, Diagnostic Diagnostic)> _hostSyncs = new();

        public void OnInvocation(OperationAnalysisContext context)
        {
            var invocation = (IInvocationOperation)context.Operation;
            var caller = ContainingMethod(context.ContainingSymbol);
            if (caller is null || !SymbolEqualityComparer.Default.Equals(caller.ContainingType, type)) return;
            var target = invocation.TargetMethod;

            if (SymbolEqualityComparer.Default.Equals(target.ContainingType, type) && target.MethodKind == MethodKind.Ordinary)
                _calls.GetOrAdd(caller, _ => new ConcurrentBag<IMethodSymbol>()).Add(target.OriginalDefinition);

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
            bool onTensor = known.IsTensor(receiver);
            bool onOptimizer = known.IsOptimizer(receiver);
            bool onModule = known.IsNnModule(receiver);
            if (automatic && ((onTensor && target.Name == "backward") || (onOptimizer && target.Name is "step" or "zero_grad") || (onModule && target.Name == "zero_grad")))
                _manual.Add((caller, Diagnostic.Create(DiagnosticDescriptors.ManualOptimizationCall, invocation.Syntax.GetLocation(),
                    target.Name + "()", type.Name)));
            if (onTensor && HostSyncMethods.Contains(target.Name))
                _hostSyncs.Add((caller, Diagnostic.Create(DiagnosticDescriptors.HostSync, invocation.Syntax.GetLocation(), target.Name + "()", type.Name)));
        }

        public void OnEnd(SymbolAnalysisContext context)
        {
            var training = type.GetMembers().OfType<IMethodSymbol>().Where(m => known.StepAttributes(m).Any(s => s.Kind == StepKind.Training)).ToList();
            if (training.Count == 0) return;
            var reachable = new HashSet<IMethodSymbol>(SymbolEqualityComparer.Default);
            var pending = new Stack<IMethodSymbol>(training);
            while (pending.Count > 0)
            {
                var m = pending.Pop();
                if (!reachable.Add(m)) continue;
                if (_calls.TryGetValue(m, out var callees))
                    foreach (var c in callees) pending.Push(c);
            }
            foreach (var (method, diagnostic) in _manual)
                if (reachable.Contains(method)) context.ReportDiagnostic(diagnostic);
            foreach (var (method, diagnostic) in _hostSyncs)
                if (reachable.Contains(method)) context.ReportDiagnostic(diagnostic);
        }
    }

    private static IMethodSymbol? ContainingMethod(ISymbol symbol)
    {
        for (var s = symbol; s is not null; s = s.ContainingSymbol)
            if (s is IMethodSymbol { MethodKind: not (MethodKind.AnonymousFunction or MethodKind.LocalFunction) } m) return m;
        return null;
    }
}
