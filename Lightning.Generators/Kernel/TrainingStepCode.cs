using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Lightning.Generators.Kernel;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Lightning.Generators.Kernel;

/// <summary>
/// "Training-step code": the [TrainingStep] method and the methods of the same class it calls, directly or through
/// others. One definition for the rules that look inside it: manual optimization calls (LTN0005, reported by the
/// generator) and host syncs (LTN0012, reported by the step-body analyzer). Calls are found by name in the syntax
/// (<c>Foo(...)</c>, <c>this.Foo(...)</c>; every overload of that name counts), so nothing is bound to find them.
/// </summary>
internal static class TrainingStepCode
{
    /// <summary>The methods of <paramref name="type"/> that are training-step code.</summary>
    public static HashSet<IMethodSymbol> Methods(INamedTypeSymbol type, KnownSymbols known, CancellationToken ct)
    {
        var reached = new HashSet<IMethodSymbol>(SymbolEqualityComparer.Default);
        var pending = new Stack<IMethodSymbol>(type.GetMembers().OfType<IMethodSymbol>().Where(m => known.StepAttributes(m).Any(s => s.Kind == StepKind.Training)));
        while (pending.Count > 0)
        {
            ct.ThrowIfCancellationRequested();
            var method = pending.Pop();
            if (!reached.Add(method)) continue;
            foreach (var invocation in Invocations(method, ct))
                if (CalledName(invocation, ownOnly: true) is string name)
                    foreach (var callee in type.GetMembers(name).OfType<IMethodSymbol>())
                        if (callee.MethodKind == MethodKind.Ordinary && !reached.Contains(callee)) pending.Push(callee);
        }
        return reached;
    }

    /// <summary>Every invocation written in <paramref name="method"/> (its lambdas and local functions included).</summary>
    public static IEnumerable<InvocationExpressionSyntax> Invocations(IMethodSymbol method, CancellationToken ct) =>
        method.DeclaringSyntaxReferences.Select(r => r.GetSyntax(ct)).SelectMany(n => n.DescendantNodes().OfType<InvocationExpressionSyntax>());

    /// <summary>
    /// LTN0005: <c>backward()</c> on a tensor, <c>step()</c> or <c>zero_grad()</c> on an optimizer, or the module's own
    /// <c>zero_grad()</c>, in training-step code of a module under automatic optimization (the trainer does them).
    /// Only invocations with one of those names are bound.
    /// </summary>
    public static void CheckManualOptimizationCalls(INamedTypeSymbol type, KnownSymbols known, Compilation compilation, DiagnosticList diagnostics, CancellationToken ct)
    {
        var models = new Dictionary<SyntaxTree, SemanticModel>();
        foreach (var method in Methods(type, known, ct).OrderBy(m => m.Locations[0].SourceTree?.FilePath, System.StringComparer.Ordinal).ThenBy(m => m.Locations[0].SourceSpan.Start))
        {
            foreach (var invocation in Invocations(method, ct))
            {
                if (CalledName(invocation, ownOnly: false) is not ("backward" or "step" or "zero_grad")) continue;
                if (!models.TryGetValue(invocation.SyntaxTree, out var model)) models[invocation.SyntaxTree] = model = compilation.GetSemanticModel(invocation.SyntaxTree);
                if (model.GetSymbolInfo(invocation, ct).Symbol is not IMethodSymbol { IsStatic: false } target) continue;
                var receiver = target.ContainingType;
                bool manual = target.Name switch
                {
                    "backward" => known.IsTensor(receiver),
                    "step" => known.IsOptimizer(receiver),
                    _ => known.IsOptimizer(receiver) || known.IsNnModule(receiver),
                };
                if (manual)
                    diagnostics.Add(DiagnosticDescriptors.ManualOptimizationCall, LocationInfo.From(invocation), target.Name + "()", type.Name);
            }
        }
    }

    /// <summary>The name an invocation calls: <c>Foo(...)</c>, <c>this.Foo(...)</c>, and with <paramref name="ownOnly"/> false also <c>x.Foo(...)</c>.</summary>
    private static string? CalledName(InvocationExpressionSyntax invocation, bool ownOnly) => invocation.Expression switch
    {
        IdentifierNameSyntax id => id.Identifier.ValueText,
        GenericNameSyntax generic => generic.Identifier.ValueText,
        MemberAccessExpressionSyntax { Expression: ThisExpressionSyntax } access => access.Name.Identifier.ValueText,
        MemberAccessExpressionSyntax access when !ownOnly => access.Name.Identifier.ValueText,
        _ => null,
    };
}
