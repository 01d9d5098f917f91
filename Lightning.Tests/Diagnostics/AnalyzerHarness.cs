using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Lightning.Generators.Callbacks;
using Lightning.Generators.Modules;
using Lightning.Tests.Generation;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Text;
using Xunit;

namespace Lightning.Tests.Diagnostics;

/// <summary>
/// Runs the generators, then Lightning's analyzers, on test sources, and gathers the Lightning diagnostics of both
/// (declaration rules come from the generators, code rules from the analyzers). Sources mark the expected span of a
/// diagnostic with <c>[|</c> and <c>|]</c>.
/// </summary>
internal static class AnalyzerHarness
{
    public const string Usings = """
        using Lightning;
        using TorchSharp;
        using static TorchSharp.torch;
        using static TorchSharp.torch.nn;

        """;

    /// <summary>Every analyzer of the generator assembly (found by reflection, so a new one is tested without editing this list).</summary>
    public static readonly ImmutableArray<DiagnosticAnalyzer> Analyzers = typeof(LightningModuleGenerator).Assembly.GetTypes()
        .Where(t => typeof(DiagnosticAnalyzer).IsAssignableFrom(t) && !t.IsAbstract)
        .Select(t => (DiagnosticAnalyzer)System.Activator.CreateInstance(t)!)
        .ToImmutableArray();

    /// <summary>Both generators, as the compiler runs them.</summary>
    public static GeneratorDriver Generators() => CSharpGeneratorDriver.Create(
        new[] { new LightningModuleGenerator().AsSourceGenerator(), new CallbackGenerator().AsSourceGenerator() }, parseOptions: GeneratorHarness.ParseOptions);

    /// <summary>The Lightning diagnostics of <paramref name="source"/>: the generators', then the analyzers' on the generated compilation.</summary>
    public static async Task<ImmutableArray<Diagnostic>> DiagnosticsAsync(string source)
    {
        var compilation = GeneratorHarness.Compile(Usings + source);
        Generators().RunGeneratorsAndUpdateCompilation(compilation, out var withGenerated, out var generatorDiagnostics);
        var diagnostics = generatorDiagnostics.AddRange(await withGenerated.WithAnalyzers(Analyzers).GetAnalyzerDiagnosticsAsync());
        return diagnostics.Where(d => d.Id.StartsWith("LTN")).OrderBy(d => d.Location.SourceSpan.Start).ToImmutableArray();
    }

    /// <summary>Asserts exactly one <paramref name="id"/> diagnostic, on the span marked in <paramref name="markup"/>; returns its message.</summary>
    public static async Task<string> AssertFiresAsync(string markup, string id)
    {
        var (source, span) = Parse(markup);
        var diagnostics = await DiagnosticsAsync(source);
        var matching = diagnostics.Where(d => d.Id == id).ToList();
        var d = Assert.Single(matching);
        Assert.Equal(span, new TextSpan(d.Location.SourceSpan.Start - Usings.Length, d.Location.SourceSpan.Length));
        return d.GetMessage(System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>Asserts no Lightning diagnostic at all for <paramref name="source"/>.</summary>
    public static async Task AssertCleanAsync(string source)
    {
        var diagnostics = await DiagnosticsAsync(source);
        Assert.True(diagnostics.IsEmpty, "Unexpected diagnostics:\n" + string.Join("\n", diagnostics));
    }

    /// <summary>Applies <paramref name="fixer"/>'s fix for the <paramref name="id"/> diagnostic and returns the new source (without the usings).</summary>
    public static async Task<string> ApplyFixAsync(string source, string id, CodeFixProvider fixer)
    {
        using var workspace = new AdhocWorkspace();
        var project = workspace.AddProject("Test", LanguageNames.CSharp)
            .WithMetadataReferences(GeneratorHarness.Compile().References)
            .WithParseOptions(GeneratorHarness.ParseOptions)
            .WithCompilationOptions(new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));
        var document = project.AddDocument("Test.cs", Usings + source);
        var compilation = (await document.Project.GetCompilationAsync())!;
        Generators().RunGeneratorsAndUpdateCompilation(compilation, out var withGenerated, out var generatorDiagnostics);
        // Generator diagnostics carry a plain file location (path and span); the fix works from the span.
        var diagnostic = generatorDiagnostics.AddRange(await withGenerated.WithAnalyzers(Analyzers).GetAnalyzerDiagnosticsAsync()).First(d => d.Id == id);

        var actions = new List<CodeAction>();
        await fixer.RegisterCodeFixesAsync(new CodeFixContext(document, diagnostic, (a, _) => actions.Add(a), CancellationToken.None));
        var action = Assert.Single(actions);
        var operation = Assert.Single((await action.GetOperationsAsync(CancellationToken.None)).OfType<ApplyChangesOperation>());
        var text = (await operation.ChangedSolution.GetDocument(document.Id)!.GetTextAsync()).ToString();
        Assert.StartsWith(Usings, text);
        return text.Substring(Usings.Length).Replace("\r\n", "\n");
    }

    private static (string Source, TextSpan Span) Parse(string markup)
    {
        int start = markup.IndexOf("[|", System.StringComparison.Ordinal);
        int end = markup.IndexOf("|]", System.StringComparison.Ordinal);
        Assert.True(start >= 0 && end > start, "the test source must mark the expected span with [| and |]");
        var source = markup.Remove(end, 2).Remove(start, 2);
        return (source, new TextSpan(start, end - start - 2));
    }
}
