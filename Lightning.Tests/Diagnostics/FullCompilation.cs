using System.Collections.Immutable;
using System.Linq;
using System.Threading.Tasks;
using Lightning.Tests.Generation;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Lightning.Tests.Diagnostics;

/// <summary>
/// Compiles sources the way a build does: both generators, the compiler on the updated compilation, then every Lightning
/// analyzer. Returns every warning and error of the three, so a test can assert that a mistake shows its own diagnostic
/// and nothing else (no error in generated code, no compiler error the user did not write, no false LTN). As the
/// command-line compiler does, analyzer diagnostics are dropped when the compilation has a declaration error.
/// </summary>
internal static class FullCompilation
{
    public static async Task<ImmutableArray<Diagnostic>> DiagnosticsAsync(params string[] sources)
    {
        var compilation = GeneratorHarness.Compile(sources);
        AnalyzerHarness.Generators().RunGeneratorsAndUpdateCompilation(compilation, out var withGenerated, out var generatorDiagnostics);
        var compiler = withGenerated.GetDiagnostics();
        var analyzers = await withGenerated.WithAnalyzers(AnalyzerHarness.Analyzers).GetAnalyzerDiagnosticsAsync();
        // csc stops after the declaration stage when it has errors there, before it asks the analyzers (CommonCompiler.CompileAndEmit).
        if (withGenerated.GetDeclarationDiagnostics().Any(d => d.Severity == DiagnosticSeverity.Error)) analyzers = ImmutableArray<Diagnostic>.Empty;
        return generatorDiagnostics.AddRange(compiler).AddRange(analyzers)
            .Where(d => d.Severity >= DiagnosticSeverity.Warning || d.Id.StartsWith("LTN", System.StringComparison.Ordinal))
            .OrderBy(d => d.Location.GetLineSpan().Path, System.StringComparer.Ordinal).ThenBy(d => d.Location.SourceSpan.Start)
            .ToImmutableArray();
    }

    /// <summary>True when the diagnostic points into a generated file.</summary>
    public static bool InGeneratedFile(Diagnostic d) => d.Location.GetLineSpan().Path.EndsWith(".g.cs", System.StringComparison.Ordinal);
}
