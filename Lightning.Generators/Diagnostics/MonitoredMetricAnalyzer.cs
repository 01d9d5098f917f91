using System;
using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Linq;
using Lightning.Generators.Kernel;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace Lightning.Generators.Diagnostics;

/// <summary>
/// LTN0013: a metric monitored by a callback (<c>new ModelCheckpoint { Monitor = "val_acc" }</c>, a constant)
/// that no <c>Log</c> call of a Lightning module in the compilation logs, with the closest logged name as a
/// suggestion. Runs at the end of the compilation, so it sees every module's Log calls. Log calls are found by the
/// kernel's syntactic rule (<see cref="LogCalls"/>), so they count even in a module whose generated members are missing.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class MonitoredMetricAnalyzer : DiagnosticAnalyzer
{
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } =
        ImmutableArray.Create(DiagnosticDescriptors.MonitoredMetricNotLogged);

    public override void Initialize(AnalysisContext context)
    {
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.EnableConcurrentExecution();
        context.RegisterCompilationStartAction(start =>
        {
            var known = KnownSymbols.Get(start.Compilation);
            var monitoring = new[] { known.ModelCheckpoint, known.EarlyStopping }.Where(t => t is not null).ToImmutableArray();
            if (known.LightningModuleAttribute is null || monitoring.IsEmpty) return;

            var logged = new ConcurrentDictionary<string, bool>(StringComparer.Ordinal);
            var monitors = new ConcurrentBag<(string Name, Location Location)>();
            int modules = 0;

            start.RegisterSymbolAction(c =>
            {
                if (known.IsModule(c.Symbol)) System.Threading.Interlocked.Increment(ref modules);
            }, SymbolKind.NamedType);

            start.RegisterSyntaxNodeAction(c =>
            {
                var invocation = (InvocationExpressionSyntax)c.Node;
                if (!LogCalls.IsLogCall(invocation) || !known.IsModule(c.ContainingSymbol as INamedTypeSymbol ?? c.ContainingSymbol?.ContainingType)) return;
                if (LogCalls.ConstantKey(invocation, c.SemanticModel, c.CancellationToken) is string name) logged[name] = true;
            }, SyntaxKind.InvocationExpression);

            start.RegisterOperationAction(c =>
            {
                var assignment = (ISimpleAssignmentOperation)c.Operation;
                if (assignment.Target is IPropertyReferenceOperation { Property: { Name: "Monitor" } property }
                    && monitoring.Any(t => SymbolEqualityComparer.Default.Equals(property.ContainingType, t))
                    && assignment.Value.ConstantValue is { HasValue: true, Value: string monitor })
                    monitors.Add((monitor, assignment.Value.Syntax.GetLocation()));
            }, OperationKind.SimpleAssignment);

            start.RegisterCompilationEndAction(c =>
            {
                // Only where this compilation has modules: their metrics may otherwise be logged in another assembly.
                if (modules == 0) return;
                var names = logged.Keys.ToList();
                foreach (var (monitor, location) in monitors)
                {
                    // "epoch" and "step" are always there: the trainer adds them to the monitor candidates, as Lightning's.
                    if (logged.ContainsKey(monitor) || monitor is "epoch" or "step") continue;
                    var closest = names.OrderBy(n => Distance(n, monitor)).ThenBy(n => n, StringComparer.Ordinal).FirstOrDefault();
                    var hint = closest is null ? "" : $"; did you mean '{closest}'?";
                    c.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.MonitoredMetricNotLogged, location, monitor, hint));
                }
            });
        });
    }

    /// <summary>Levenshtein edit distance.</summary>
    internal static int Distance(string a, string b) => Helpers.EditDistance.Between(a, b);
}
