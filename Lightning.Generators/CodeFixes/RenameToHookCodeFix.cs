using System.Collections.Immutable;
using System.Composition;
using System.Linq;
using System.Threading.Tasks;
using Lightning.Generators.Kernel;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Rename;

namespace Lightning.CodeFixes;

/// <summary>LTN0017: renames a method whose name is a near miss of a hook (<c>OnTrainEpochEnds</c>) to the hook's name, everywhere it is used.</summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(RenameToHookCodeFix)), Shared]
public sealed class RenameToHookCodeFix : CodeFixProvider
{
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create(DiagnosticDescriptors.HookNearMissId);

    public override FixAllProvider? GetFixAllProvider() => null;

    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        var root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
        var model = await context.Document.GetSemanticModelAsync(context.CancellationToken).ConfigureAwait(false);
        var declaration = root?.FindToken(context.Span.Start).Parent?.AncestorsAndSelf().OfType<MethodDeclarationSyntax>().FirstOrDefault();
        if (declaration is null || model?.GetDeclaredSymbol(declaration, context.CancellationToken) is not IMethodSymbol method) return;
        if (HookCatalog.NearMiss(method.Name) is not string hook) return;
        var solution = context.Document.Project.Solution;
        context.RegisterCodeFix(
            CodeAction.Create(
                $"Rename '{method.Name}' to '{hook}'",
                ct => Renamer.RenameSymbolAsync(solution, method, new SymbolRenameOptions(), hook, ct),
                equivalenceKey: DiagnosticDescriptors.HookNearMissId),
            context.Diagnostics);
    }
}
