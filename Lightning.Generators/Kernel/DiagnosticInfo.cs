using System.Collections.Generic;
using System.Linq;
using Lightning.Generators.Kernel;
using Lightning.Generators.Helpers;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;

namespace Lightning.Generators.Kernel;

/// <summary>
/// Where a diagnostic points, as plain values (file path, text span, line span): equal for equal positions, and holding
/// no syntax tree or compilation, so a generator model that carries it still caches.
/// </summary>
internal sealed record LocationInfo(string FilePath, TextSpan Span, LinePositionSpan LineSpan)
{
    public static LocationInfo? From(Location? location) =>
        location is null || !location.IsInSource ? null
        : new LocationInfo(location.SourceTree?.FilePath ?? "", location.SourceSpan, location.GetLineSpan().Span);

    public static LocationInfo? From(SyntaxNode? node) => node is null ? null : From(node.GetLocation());

    public static LocationInfo? From(SyntaxToken token) => From(token.GetLocation());

    /// <summary>The first source location of <paramref name="symbol"/>.</summary>
    public static LocationInfo? From(ISymbol symbol) => From(symbol.Locations.FirstOrDefault(l => l.IsInSource));

    /// <summary>A location on the same file and span (without the syntax tree).</summary>
    public Location ToLocation() => Location.Create(FilePath, Span, LineSpan);
}

/// <summary>
/// A diagnostic as plain values: the rule's ID, where, and the message arguments. The generators carry these in their
/// models and report them from a separate output, so an edit that moves a line re-reports diagnostics without
/// regenerating code. Generator-reported diagnostics appear even when the compilation has errors that make the
/// compiler skip analyzers.
/// </summary>
internal sealed record DiagnosticInfo(string Id, LocationInfo? Location, EquatableArray<string> Arguments)
{
    public Diagnostic ToDiagnostic() => Diagnostic.Create(
        DiagnosticDescriptors.ById(Id), Location?.ToLocation() ?? Microsoft.CodeAnalysis.Location.None, Arguments.Cast<object>().ToArray());

    /// <summary>True when the rule is an error (the module cannot be run as written).</summary>
    public bool IsError => DiagnosticDescriptors.ById(Id).DefaultSeverity == DiagnosticSeverity.Error;
}

/// <summary>Reports the diagnostics a generator's parse carried (its diagnostics output).</summary>
internal static class DiagnosticReporting
{
    public static void Report(SourceProductionContext context, EquatableArray<DiagnosticInfo> diagnostics)
    {
        foreach (var d in diagnostics) context.ReportDiagnostic(d.ToDiagnostic());
    }
}

/// <summary>Collects <see cref="DiagnosticInfo"/> while a parser checks a declaration.</summary>
internal sealed class DiagnosticList
{
    private readonly List<DiagnosticInfo> _items = new();

    public int Count => _items.Count;

    public bool HasErrors => _items.Any(d => d.IsError);

    public void Add(DiagnosticDescriptor descriptor, LocationInfo? location, params string[] arguments) =>
        _items.Add(new DiagnosticInfo(descriptor.Id, location, arguments.ToEquatableArray()));

    public void Add(DiagnosticDescriptor descriptor, Location? location, params string[] arguments) =>
        Add(descriptor, LocationInfo.From(location), arguments);

    public EquatableArray<DiagnosticInfo> ToEquatableArray() => _items.ToEquatableArray();
}
