using System.Text;
using Lightning.Generators.Modules;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Text;

namespace Lightning.Generators.Callbacks;

/// <summary>
/// For each <c>[Callback]</c> partial class: find its hook methods and handlers (<see cref="CallbackParser"/>) and emit
/// <c>Foo.Callback.g.cs</c>, which implements <c>Lightning.ICallback</c> by calling them directly.
/// </summary>
[Generator(LanguageNames.CSharp)]
public sealed class CallbackGenerator : IIncrementalGenerator
{
    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        var callbacks = context.SyntaxProvider
            .ForAttributeWithMetadataName(
                HookCatalog.CallbackAttribute,
                static (node, _) => node is ClassDeclarationSyntax,
                static (ctx, ct) => CallbackParser.ParseClass(ctx, ct))
            .WithTrackingName(TrackingNames.CallbackSpec)
            .Where(static spec => spec is not null);

        context.RegisterSourceOutput(callbacks, static (spc, spec) =>
            spc.AddSource(spec!.HintName, SourceText.From(CallbackEmitter.EmitClass(spec), Encoding.UTF8)));
    }
}

