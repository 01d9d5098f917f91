using System.Linq;
using System.Text;
using Lightning.Generators.Helpers;
using Lightning.Generators.Hyperparameters;
using Lightning.Generators.Kernel;
using Lightning.Generators.Modules.Model;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Text;

namespace Lightning.Generators.Modules;

/// <summary>
/// For each <c>[LightningModule]</c> class: parse it into a <see cref="ModuleSpec"/> and its diagnostics (cached by value),
/// emit <c>Foo.Lightning.g.cs</c>, and report the declaration's mistakes (LTN0001-LTN0004, LTN0006-LTN0009, LTN0015,
/// LTN0016, LTN0019). Reported from the generator, they appear even when other errors make the compiler skip analyzers;
/// code and diagnostics are separate outputs, so a diagnostic that moves with an edit does not regenerate code.
/// </summary>
[Generator(LanguageNames.CSharp)]
public sealed class LightningModuleGenerator : IIncrementalGenerator
{
    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        var parses = context.SyntaxProvider
            .ForAttributeWithMetadataName(
                Names.LightningModuleAttribute,
                static (node, _) => node is ClassDeclarationSyntax,
                static (ctx, ct) => ModuleParser.Parse(ctx, ct))
            .WithTrackingName(TrackingNames.ModuleSpec);

        context.RegisterSourceOutput(parses.Select(static (p, _) => p.Diagnostics), static (spc, diagnostics) => DiagnosticReporting.Report(spc, diagnostics));

        var specs = parses
            .Select(static (p, _) => p.Spec)
            .WithTrackingName(TrackingNames.ModuleCode)
            .Where(static spec => spec is not null);
        context.RegisterSourceOutput(specs, static (spc, spec) =>
        {
            if (ModuleEmitter.Emit(spec!) is string text) spc.AddSource(spec!.HintName, SourceText.From(text, Encoding.UTF8));
        });

        // While the generator cannot add to some module (not partial, generic, abstract), one file of stand-ins keeps its
        // Log/Optimizers/ManualBackward calls compiling.
        var anyNotExtensible = specs.Select(static (s, _) => !s!.CanExtend).Collect().Select(static (all, _) => all.Contains(true));
        context.RegisterSourceOutput(anyNotExtensible, static (spc, any) =>
        {
            if (any) spc.AddSource("Lightning.ModuleStandIns.g.cs", SourceText.From(ModuleEmitter.EmitSharedStandIns(), Encoding.UTF8));
        });

        // [Hyperparameter] on a parameter of an ordinary constructor or method, in any class: never a hyperparameter (LTN0009).
        var strayHyperparameters = context.SyntaxProvider
            .ForAttributeWithMetadataName(
                Names.HyperparameterAttribute,
                static (node, _) => node is ParameterSyntax { Parent: ParameterListSyntax { Parent: not TypeDeclarationSyntax } },
                static (ctx, _) => ctx.TargetSymbol is IParameterSymbol p
                    ? new[] { HyperparameterParser.StrayParameter(p) }.ToEquatableArray()
                    : EquatableArray<DiagnosticInfo>.Empty);
        context.RegisterSourceOutput(strayHyperparameters, static (spc, diagnostics) => DiagnosticReporting.Report(spc, diagnostics));
    }
}
