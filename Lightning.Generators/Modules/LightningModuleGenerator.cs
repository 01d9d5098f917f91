using Lightning.Generators.Modules.Model;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Text;
using System.Text;

namespace Lightning.Generators.Modules;

/// <summary>
/// For each <c>[LightningModule]</c> partial class: parse it into a <see cref="ModuleSpec"/> (cached by value)
/// and emit <c>Foo.Lightning.g.cs</c>. Mistakes in the class are reported by the analyzers, not here.
/// </summary>
[Generator(LanguageNames.CSharp)]
public sealed class LightningModuleGenerator : IIncrementalGenerator
{
    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        var modules = context.SyntaxProvider
            .ForAttributeWithMetadataName(
                Names.LightningModuleAttribute,
                static (node, _) => node is ClassDeclarationSyntax,
                static (ctx, ct) => ModuleParser.Parse(ctx, ct))
            .WithTrackingName(TrackingNames.ModuleSpec)
            .Where(static spec => spec is not null);

        context.RegisterSourceOutput(modules, static (spc, spec) =>
            spc.AddSource(spec!.HintName, SourceText.From(ModuleEmitter.Emit(spec), Encoding.UTF8)));
    }
}
