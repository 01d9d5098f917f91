using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Lightning.Generators.Helpers;
using Lightning.Generators.Kernel.Model;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Lightning.Generators.Kernel;

/// <summary>Where a type is declared and whether the generator can add to it: shared by the module and callback features.</summary>
internal static class Declarations
{
    public static readonly SymbolDisplayFormat TypeFormat = SymbolDisplayFormat.FullyQualifiedFormat
        .AddMiscellaneousOptions(SymbolDisplayMiscellaneousOptions.IncludeNullableReferenceTypeModifier);

    /// <summary>
    /// The first declaration, from <paramref name="type"/> outwards through the types it is nested in, that is not
    /// <c>partial</c> (the generator can only add to partial types), or null when all are partial.
    /// </summary>
    public static (INamedTypeSymbol Type, TypeDeclarationSyntax Declaration)? FirstNonPartial(INamedTypeSymbol type, CancellationToken ct)
    {
        for (var t = type; t is not null; t = t.ContainingType)
            foreach (var reference in t.DeclaringSyntaxReferences)
                if (reference.GetSyntax(ct) is TypeDeclarationSyntax declaration && !declaration.Modifiers.Any(SyntaxKind.PartialKeyword))
                    return (t, declaration);
        return null;
    }

    /// <summary>Where a type is declared: its namespace, the types it is nested in, and its dotted name within the namespace.</summary>
    public static (string Namespace, EquatableArray<ContainingTypeSpec> Containing, string MetadataName) Place(INamedTypeSymbol type)
    {
        var ns = type.ContainingNamespace.IsGlobalNamespace ? "" : type.ContainingNamespace.ToDisplayString();
        var containing = new List<ContainingTypeSpec>();
        for (var t = type.ContainingType; t is not null; t = t.ContainingType)
            containing.Insert(0, new ContainingTypeSpec(Keyword(t), t.Name));
        var metadataName = string.Join(".", containing.Select(c => c.Name).Concat(new[] { type.Name }));
        return (ns, containing.ToEquatableArray(), metadataName);
    }

    public static string Keyword(INamedTypeSymbol t) => t switch
    {
        { IsRecord: true, TypeKind: TypeKind.Struct } => "record struct",
        { IsRecord: true } => "record",
        { TypeKind: TypeKind.Struct } => "struct",
        { TypeKind: TypeKind.Interface } => "interface",
        _ => "class",
    };

    /// <summary>True when code outside the type (a top-level class of the same assembly) can name it.</summary>
    public static bool VisibleInAssembly(INamedTypeSymbol type)
    {
        for (var t = type; t is not null; t = t.ContainingType)
            if (t.DeclaredAccessibility is not (Accessibility.Public or Accessibility.Internal or Accessibility.ProtectedOrInternal)) return false;
        return true;
    }

    /// <summary>The primary constructor, whose syntax is the type declaration itself.</summary>
    public static IMethodSymbol? PrimaryConstructor(INamedTypeSymbol type) =>
        type.InstanceConstructors.FirstOrDefault(c =>
            c.DeclaringSyntaxReferences.Length == 1 && c.DeclaringSyntaxReferences[0].GetSyntax() is TypeDeclarationSyntax);

    /// <summary>The type of a parameter as written (for a precise location), else the method's name.</summary>
    public static Location ParameterTypeLocation(IMethodSymbol method, int index) =>
        method.Parameters[index].DeclaringSyntaxReferences.FirstOrDefault()?.GetSyntax() is ParameterSyntax { Type: { } t } ? t.GetLocation() : method.Locations[0];

    /// <summary>The return type as written, else the method's name.</summary>
    public static Location ReturnTypeLocation(IMethodSymbol method) =>
        method.DeclaringSyntaxReferences.FirstOrDefault()?.GetSyntax() is MethodDeclarationSyntax m ? m.ReturnType.GetLocation() : method.Locations[0];

    /// <summary>A C# string literal.</summary>
    public static string Quote(string s) => SymbolDisplay.FormatLiteral(s, quote: true);

    /// <summary>
    /// The expression thrown by a member of <paramref name="typeName"/> that could not be generated because of its errors
    /// (it never runs: the build fails on the LTN diagnostic).
    /// </summary>
    public static string NotGenerated(string typeName, string what) =>
        "throw new global::System.InvalidOperationException(" + Quote(typeName + " " + what + "; see its LTN diagnostics.") + ")";
}
