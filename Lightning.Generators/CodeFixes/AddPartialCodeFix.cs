using System.Collections.Immutable;
using System.Composition;
using System.Linq;
using System.Threading.Tasks;
using Lightning.Generators.Kernel;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Lightning.CodeFixes;

/// <summary>LTN0001, LTN0014: adds <c>partial</c> to the module or [Callback] class (or the type it is nested in).</summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(AddPartialCodeFix)), Shared]
public sealed class AddPartialCodeFix : CodeFixProvider
{
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create(DiagnosticDescriptors.NotPartialId, DiagnosticDescriptors.CallbackNotPartialId);

    public override FixAllProvider GetFixAllProvider() => WellKnownFixAllProviders.BatchFixer;

    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        var root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
        var declaration = root?.FindToken(context.Span.Start).Parent?.AncestorsAndSelf().OfType<TypeDeclarationSyntax>().FirstOrDefault();
        if (root is null || declaration is null) return;
        context.RegisterCodeFix(
            CodeAction.Create(
                "Make '" + declaration.Identifier.ValueText + "' partial",
                _ => Task.FromResult(context.Document.WithSyntaxRoot(root.ReplaceNode(declaration,
                    declaration.AddModifiers(SyntaxFactory.Token(SyntaxKind.PartialKeyword).WithTrailingTrivia(SyntaxFactory.Space))))),
                equivalenceKey: "MakePartial"),
            context.Diagnostics);
    }
}
