using System.Collections.Immutable;
using System.Linq;
using Lightning.Generators.Kernel;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Lightning.Generators.Diagnostics;

/// <summary>
/// LTN0017: a method of a [Callback] or [LightningModule] class whose name is a near miss of a hook
/// (<c>OnTrainEpochEnds</c>), so the trainer never calls it. A warning about user code that compiles either way, so an
/// analyzer (suppressible per line with #pragma); the hook list is the kernel's <see cref="HookCatalog"/>.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class HookNameAnalyzer : DiagnosticAnalyzer
{
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = ImmutableArray.Create(DiagnosticDescriptors.HookNearMiss);

    public override void Initialize(AnalysisContext context)
    {
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.EnableConcurrentExecution();
        context.RegisterCompilationStartAction(start =>
        {
            var known = KnownSymbols.Get(start.Compilation);
            if (known.CallbackAttribute is null || known.LightningModuleAttribute is null) return;
            start.RegisterSymbolAction(c => AnalyzeMethod(c, known), SymbolKind.Method);
        });
    }

    private static void AnalyzeMethod(SymbolAnalysisContext context, KnownSymbols known)
    {
        var method = (IMethodSymbol)context.Symbol;
        if (method.MethodKind != MethodKind.Ordinary || method.IsImplicitlyDeclared || method.IsOverride || !method.ExplicitInterfaceImplementations.IsEmpty) return;
        if (!known.IsCallbackClass(method.ContainingType) && !known.IsModule(method.ContainingType)) return;
        if (KnownSymbols.Attributes(method, known.CallbackAttribute).Any()) return;   // a handler: its name is free
        if (HookCatalog.NearMiss(method.Name) is string near)
            context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.HookNearMiss, method.Locations[0], method.Name, near));
    }
}
