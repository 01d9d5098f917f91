using System.Text;
using Lightning.Generators.Kernel;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Text;

namespace Lightning.Generators.Callbacks;

/// <summary>
/// For each <c>[Callback]</c> partial class: find its hook methods and handlers (<see cref="CallbackParser"/>), emit
/// <c>Foo.Callback.g.cs</c>, which implements <c>Lightning.ICallback</c> by calling them directly, and report the class's
/// mistakes (LTN0014-LTN0016), also for handlers in classes that are neither [Callback] nor [LightningModule].
/// </summary>
[Generator(LanguageNames.CSharp)]
public sealed class CallbackGenerator : IIncrementalGenerator
{
    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        var parses = context.SyntaxProvider
            .ForAttributeWithMetadataName(
                Names.CallbackAttribute,
                static (node, _) => node is ClassDeclarationSyntax,
                static (ctx, ct) => CallbackParser.ParseClass(ctx, ct))
            .WithTrackingName(TrackingNames.CallbackSpec);

        context.RegisterSourceOutput(parses.Select(static (p, _) => p.Diagnostics), static (spc, d) => DiagnosticReporting.Report(spc, d));

        var specs = parses.Select(static (p, _) => p.Spec).WithTrackingName(TrackingNames.CallbackCode).Where(static spec => spec is not null);
        context.RegisterSourceOutput(specs, static (spc, spec) =>
            spc.AddSource(spec!.HintName, SourceText.From(CallbackEmitter.EmitClass(spec), Encoding.UTF8)));

        var strayHandlers = context.SyntaxProvider
            .ForAttributeWithMetadataName(
                Names.CallbackAttribute,
                static (node, _) => node is MethodDeclarationSyntax,
                static (ctx, ct) => CallbackParser.ParseStrayHandler(ctx, ct));
        context.RegisterSourceOutput(strayHandlers, static (spc, d) => DiagnosticReporting.Report(spc, d));
    }
}
