using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Lightning.Generators.Diagnostics;
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
/// Runs the generator, then Lightning's analyzers, on test sources. Sources mark the expected span of a
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

    private static readonly ImmutableArray<DiagnosticAnalyzer> Analyzers =
        ImmutableArray.Create<DiagnosticAnalyzer>(new ModuleAnalyzer(), new StepBodyAnalyzer(), new MonitoredMetricAnalyzer(), new CallbackAnalyzer());

    /// <summary>The Lightning diagnostics of <paramref name="source"/> (after the generator ran).</summary>
    public static async Task<ImmutableArray<Diagnostic>> DiagnosticsAsync(string source)
    {
        var compilation = GeneratorHarness.Compile(Usings + source);
        CSharpGeneratorDriver.Create(new[] { new LightningModuleGenerator().AsSourceGenerator(), new Lightning.Generators.Callbacks.CallbackGenerator().AsSourceGenerator() }, parseOptions: GeneratorHarness.ParseOptions)
            .RunGeneratorsAndUpdateCompilation(compilation, out var withGenerated, out _);
        var diagnostics = await withGenerated.WithAnalyzers(Analyzers).GetAnalyzerDiagnosticsAsync();
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
        var diagnostic = (await compilation.WithAnalyzers(Analyzers).GetAnalyzerDiagnosticsAsync()).First(d => d.Id == id);

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
