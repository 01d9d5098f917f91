using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.IO;
using System.Linq;
using System.Runtime.CompilerServices;
using Lightning.Generators.Modules;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Lightning.Tests.Generation;

/// <summary>Compiles test sources against the test host's own assemblies (no download) and runs the Lightning generator.</summary>
internal static class GeneratorHarness
{
    private static readonly Lazy<ImmutableArray<MetadataReference>> References = new(() =>
    {
        var paths = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator)
            .Where(p => Path.GetFileName(p).StartsWith("System.", StringComparison.Ordinal) || Path.GetFileName(p) is "mscorlib.dll" or "netstandard.dll")
            .ToList();
        paths.Add(typeof(TorchSharp.torch).Assembly.Location);
        paths.Add(typeof(LightningModuleAttribute).Assembly.Location);
        paths.Add(typeof(Trainer).Assembly.Location);
        return paths.Distinct().Select(p => (MetadataReference)MetadataReference.CreateFromFile(p)).ToImmutableArray();
    });

    public static readonly CSharpParseOptions ParseOptions = CSharpParseOptions.Default;

    /// <summary>The framework, TorchSharp and Lightning assemblies every test compilation references.</summary>
    public static ImmutableArray<MetadataReference> BaseReferences => References.Value;

    public static CSharpCompilation Compile(params string[] sources) => CSharpCompilation.Create(
        "GeneratorTest",
        sources.Select((s, i) => CSharpSyntaxTree.ParseText(s, ParseOptions, path: $"Source{i}.cs")),
        References.Value,
        new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));

    /// <summary>
    /// Runs the generators; returns the generated files and the compiler's diagnostics (warnings and errors) of the whole
    /// updated compilation, without the generators' own LTN diagnostics about the user's source (the diagnostics tests
    /// check those): a non-empty list means the generated code does not compile cleanly.
    /// </summary>
    public static (IReadOnlyList<(string HintName, string Text)> Files, ImmutableArray<Diagnostic> Diagnostics) Run(params string[] sources)
    {
        var compilation = Compile(sources);
        GeneratorDriver driver = CSharpGeneratorDriver.Create(new[] { new LightningModuleGenerator().AsSourceGenerator(), new Lightning.Generators.Callbacks.CallbackGenerator().AsSourceGenerator() }, parseOptions: ParseOptions);
        driver = driver.RunGeneratorsAndUpdateCompilation(compilation, out var output, out var generatorDiagnostics);
        var files = driver.GetRunResult().Results.SelectMany(r => r.GeneratedSources).Select(s => (s.HintName, s.SourceText.ToString())).ToList();
        var diagnostics = generatorDiagnostics.AddRange(output.GetDiagnostics())
            .Where(d => d.Severity >= DiagnosticSeverity.Warning && !d.Id.StartsWith("LTN", StringComparison.Ordinal)).ToImmutableArray();
        return (files, diagnostics);
    }

    /// <summary>The folder of this source file's project, to find golden files in the source tree.</summary>
    public static string ProjectDirectory([CallerFilePath] string path = "") => Path.GetDirectoryName(Path.GetDirectoryName(path))!;
}
