using System.Threading;
using Lightning.Generators.Callbacks.Model;
using Lightning.Generators.Helpers;
using Lightning.Generators.Kernel;
using Microsoft.CodeAnalysis;

namespace Lightning.Generators.Callbacks;

/// <summary>
/// Reads a <c>[Callback]</c> class: the partial rule (LTN0014) and its hook methods and handlers through the kernel's
/// hook rules (LTN0015, LTN0016), which wire exactly the methods they accept.
/// </summary>
internal static class CallbackParser
{
    public static CallbackParse ParseClass(GeneratorAttributeSyntaxContext context, CancellationToken ct)
    {
        if (context.TargetSymbol is not INamedTypeSymbol type) return new CallbackParse(null, EquatableArray<DiagnosticInfo>.Empty);
        var known = KnownSymbols.Get(context.SemanticModel.Compilation);
        // A [LightningModule] that is also marked [Callback] gets its hooks (and their diagnostics) from the module generator.
        if (known.IsModule(type)) return new CallbackParse(null, EquatableArray<DiagnosticInfo>.Empty);

        var diagnostics = new DiagnosticList();
        bool partial = true;
        if (Declarations.FirstNonPartial(type, ct) is (var outer, var declaration))
        {
            partial = false;
            var suffix = SymbolEqualityComparer.Default.Equals(outer, type) ? "" : $" (it contains the [Callback] class '{type.Name}')";
            diagnostics.Add(DiagnosticDescriptors.CallbackNotPartial, LocationInfo.From(declaration.Identifier), outer.Name, suffix);
        }
        var bindings = HookRules.Bindings(type, known, diagnostics, ct);
        // A generic class, or one nested in a generic type, cannot be completed by the generated part (it would declare other types).
        bool generic = false;
        for (var t = type; t is not null; t = t.ContainingType) generic |= t.IsGenericType;
        if (!partial || generic) return new CallbackParse(null, diagnostics.ToEquatableArray());

        var (ns, containing, metadataName) = Declarations.Place(type);
        var spec = new CallbackClassSpec(
            HintName: (ns.Length > 0 ? ns + "." : "") + metadataName + ".Callback.g.cs",
            Namespace: ns,
            ContainingTypes: containing,
            Name: type.Name,
            Keyword: Declarations.Keyword(type),
            Bindings: bindings);
        return new CallbackParse(spec, diagnostics.ToEquatableArray());
    }

    /// <summary>
    /// The diagnostics of <c>[Callback(event)]</c> handlers in a class that is neither [Callback] nor [LightningModule]
    /// (those classes' own parsers check their handlers).
    /// </summary>
    public static EquatableArray<DiagnosticInfo> ParseStrayHandler(GeneratorAttributeSyntaxContext context, CancellationToken ct)
    {
        if (context.TargetSymbol is not IMethodSymbol method || method.ContainingType is not { } type) return EquatableArray<DiagnosticInfo>.Empty;
        var known = KnownSymbols.Get(context.SemanticModel.Compilation);
        if (known.IsModule(type) || known.IsCallbackClass(type)) return EquatableArray<DiagnosticInfo>.Empty;
        var diagnostics = new DiagnosticList();
        HookRules.CheckStrayHandlers(method, known, diagnostics, ct);
        return diagnostics.ToEquatableArray();
    }
}
