using System;
using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Linq;
using Lightning.Generators.Modules;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace Lightning.Generators.Diagnostics;

/// <summary>
/// LTN0013: a metric monitored by a callback (<c>new ModelCheckpoint { Monitor = "val_acc" }</c>, a constant)
/// that no <c>Log</c> call of a Lightning module in the compilation logs, with the closest logged name as a
/// suggestion. Runs at the end of the compilation, so it sees every module's Log calls.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class MonitoredMetricAnalyzer : DiagnosticAnalyzer
{
    /// <summary>Callback types whose <c>Monitor</c> property names a logged metric.</summary>
    private static readonly string[] MonitoringTypes = { "Lightning.Callbacks.ModelCheckpoint", "Lightning.Callbacks.EarlyStopping" };

    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } =
        ImmutableArray.Create(DiagnosticDescriptors.MonitoredMetricNotLogged);

    public override void Initialize(AnalysisContext context)
    {
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.EnableConcurrentExecution();
        context.RegisterCompilationStartAction(start =>
        {
            var moduleAttribute = start.Compilation.GetTypeByMetadataName(Names.LightningModuleAttribute);
            var monitoring = MonitoringTypes.Select(start.Compilation.GetTypeByMetadataName).Where(t => t is not null).ToImmutableArray();
            if (moduleAttribute is null || monitoring.IsEmpty) return;

            var logged = new ConcurrentDictionary<string, bool>(StringComparer.Ordinal);
            var monitors = new ConcurrentBag<(string Name, Location Location)>();
            int modules = 0;

            start.RegisterSymbolAction(c =>
            {
                if (Names.ModuleAttribute(c.Symbol, moduleAttribute) is not null)
                    System.Threading.Interlocked.Increment(ref modules);
            }, SymbolKind.NamedType);

            start.RegisterOperationAction(c =>
            {
                var invocation = (IInvocationOperation)c.Operation;
                if (invocation.TargetMethod.Name != "Log" || invocation.Arguments.Length == 0) return;
                if (Names.ModuleAttribute(invocation.TargetMethod.ContainingType, moduleAttribute) is null) return;
                var key = invocation.Arguments.FirstOrDefault(a => a.Parameter?.Ordinal == 0)?.Value.ConstantValue;
                if (key is { HasValue: true, Value: string name }) logged[name] = true;
            }, OperationKind.Invocation);

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
