using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using Lightning.Generators.Kernel;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace Lightning.Generators.Diagnostics;

/// <summary>
/// LTN0018: <c>trainer.Fit(model, ...)</c> of a manually optimized module (<c>AutomaticOptimization = false</c>) with a
/// trainer whose options clip or accumulate gradients, which only automatic optimization does. A trainer-options rule,
/// checked where the options and the fit meet in user code.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class ManualOptimizationOptionsAnalyzer : DiagnosticAnalyzer
{
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = ImmutableArray.Create(DiagnosticDescriptors.ManualOptimizationOptions);

    public override void Initialize(AnalysisContext context)
    {
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.EnableConcurrentExecution();
        context.RegisterCompilationStartAction(start =>
        {
            var known = KnownSymbols.Get(start.Compilation);
            if (known.Trainer is null || known.TrainerOptions is null || known.LightningModuleAttribute is null) return;
            start.RegisterOperationAction(c => AnalyzeFit(c, known), OperationKind.Invocation);
        });
    }

    private static void AnalyzeFit(OperationAnalysisContext context, KnownSymbols known)
    {
        var invocation = (IInvocationOperation)context.Operation;
        if (invocation.TargetMethod.Name != "Fit" || !SymbolEqualityComparer.Default.Equals(invocation.TargetMethod.ContainingType, known.Trainer)) return;
        if (invocation.Arguments.Length == 0) return;
        var modelType = Unwrap(invocation.Arguments.First(a => a.Parameter?.Ordinal == 0).Value).Type;
        if (modelType is null || known.ModuleAttribute(modelType) is not { } attribute || KnownSymbols.AutomaticOptimization(attribute)) return;
        var options = TrainerOptionsOf(invocation.Instance, known);
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

    /// <summary>The <c>new TrainerOptions { ... }</c> a trainer was created with, through locals assigned once in the same method.</summary>
    private static IObjectCreationOperation? TrainerOptionsOf(IOperation? instance, KnownSymbols known)
    {
        var creation = Resolve(instance) as IObjectCreationOperation;
        if (creation is null || !SymbolEqualityComparer.Default.Equals(creation.Type, known.Trainer) || creation.Arguments.Length == 0) return null;
        var options = Resolve(creation.Arguments[0].Value) as IObjectCreationOperation;
        return options is not null && SymbolEqualityComparer.Default.Equals(options.Type, known.TrainerOptions) ? options : null;
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
