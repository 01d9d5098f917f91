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

/// <summary>LTN0005: removes a manual <c>backward()</c>, <c>step()</c> or <c>zero_grad()</c> statement.</summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(RemoveManualOptimizationCallCodeFix)), Shared]
public sealed class RemoveManualOptimizationCallCodeFix : CodeFixProvider
{
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create(DiagnosticDescriptors.ManualOptimizationCallId);

    public override FixAllProvider GetFixAllProvider() => WellKnownFixAllProviders.BatchFixer;

    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        var root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
        var invocation = root?.FindNode(context.Span, getInnermostNodeForTie: true).AncestorsAndSelf().OfType<InvocationExpressionSyntax>().FirstOrDefault();
        // Only a call that is a statement of its own can go without changing what the code computes.
        if (root is null || invocation?.Parent is not ExpressionStatementSyntax statement) return;
        var name = invocation.Expression is MemberAccessExpressionSyntax m ? m.Name.Identifier.ValueText : invocation.Expression.ToString();
        context.RegisterCodeFix(
            CodeAction.Create(
                "Remove the call to " + name + "() (the trainer does it)",
                _ => Task.FromResult(context.Document.WithSyntaxRoot(root.RemoveNode(statement, SyntaxRemoveOptions.KeepNoTrivia)!)),
                equivalenceKey: DiagnosticDescriptors.ManualOptimizationCallId),
            context.Diagnostics);
    }
}
