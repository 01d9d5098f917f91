using System;
using System.Collections.Immutable;
using System.Composition;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Lightning.Generators.Kernel;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Formatting;
using Microsoft.CodeAnalysis.Simplification;

namespace Lightning.CodeFixes;

/// <summary>
/// LTN0003: adds a <c>[ConfigureOptimizers]</c> method returning Adam over <c>parameters()</c>, with the module's
/// learning-rate hyperparameter when it has one (named lr, learningRate or learning_rate in any case).
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(AddConfigureOptimizersCodeFix)), Shared]
public sealed class AddConfigureOptimizersCodeFix : CodeFixProvider
{
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create(DiagnosticDescriptors.NoOptimizerId);

    public override FixAllProvider GetFixAllProvider() => WellKnownFixAllProviders.BatchFixer;

    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        var root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
        var declaration = root?.FindToken(context.Span.Start).Parent?.AncestorsAndSelf().OfType<ClassDeclarationSyntax>().FirstOrDefault();
        if (root is null || declaration is null) return;
        context.RegisterCodeFix(
            CodeAction.Create("Add a [ConfigureOptimizers] method (Adam)", ct => AddMethodAsync(context.Document, root, declaration, ct),
                equivalenceKey: DiagnosticDescriptors.NoOptimizerId),
            context.Diagnostics);
    }

    private static async Task<Document> AddMethodAsync(Document document, SyntaxNode root, ClassDeclarationSyntax declaration, CancellationToken ct)
    {
        var model = await document.GetSemanticModelAsync(ct).ConfigureAwait(false);
        var type = model?.GetDeclaredSymbol(declaration, ct);
        var lr = type is null || model is null ? null : LearningRate(type, KnownSymbols.Get(model.Compilation));
        var body = lr is null
            ? "global::TorchSharp.torch.optim.Adam(parameters())"
            : "global::TorchSharp.torch.optim.Adam(parameters(), lr: " + lr + ")";
        var method = SyntaxFactory.ParseMemberDeclaration(
                "[global::Lightning.ConfigureOptimizers]\nprivate global::Lightning.Optimization ConfigureOptimizers() => " + body + ";\n")!
            .WithAdditionalAnnotations(Formatter.Annotation, Simplifier.Annotation);
        return document.WithSyntaxRoot(root.ReplaceNode(declaration, declaration.AddMembers(method)));
    }

    /// <summary>The member holding the learning rate, if the module has such a hyperparameter.</summary>
    private static string? LearningRate(INamedTypeSymbol type, KnownSymbols known)
    {
        static bool IsLr(string name) => name.Replace("_", "").Equals("lr", StringComparison.OrdinalIgnoreCase)
            || name.Replace("_", "").Equals("learningrate", StringComparison.OrdinalIgnoreCase);
        foreach (var property in type.GetMembers().OfType<IPropertySymbol>())
            if (IsLr(property.Name) && known.HyperparameterOf(property) is not null) return property.Name;
        var primary = Declarations.PrimaryConstructor(type);
        if (primary is not null)
            foreach (var p in primary.Parameters)
                if (IsLr(p.Name) && known.HyperparameterOf(p) is not null) return p.Name;
        return null;
    }
}
