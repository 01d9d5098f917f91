using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using Lightning.Tests.Generation;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Xunit;

namespace Lightning.Tests.Samples;

/// <summary>
/// The C# examples of the docs pages compile as a user's program would: every <c>```csharp</c> block of a page is one file
/// of one program (top-level statements allowed), with the Lightning generator, against the runtime and the FashionMnist
/// sample (whose <c>FashionCnn</c> the examples train). An API change that breaks an example fails here.
/// </summary>
public class DocsExampleTests
{
    private static string Root => Path.GetDirectoryName(GeneratorHarness.ProjectDirectory())!;

    public static IEnumerable<object[]> Pages() =>
        // The pages whose examples are whole programs (others show fragments of a class or an option list).
        new[] { "docs/preemption.md", "docs/lr-finder.md", "docs/weight-averaging.md", "docs/profiler.md", "docs/quickstart.md" }.Select(p => new object[] { p });

    /// <summary>What <c>&lt;ImplicitUsings&gt;enable&lt;/ImplicitUsings&gt;</c> gives a console project (dotnet new console).</summary>
    private const string ImplicitUsings =
        "global using System; global using System.Collections.Generic; global using System.IO; global using System.Linq; " +
        "global using System.Net.Http; global using System.Threading; global using System.Threading.Tasks;";

    internal static List<string> CSharpBlocks(string markdown) =>
        Regex.Matches(markdown, @"```csharp\n(.*?)```", RegexOptions.Singleline).Select(m => m.Groups[1].Value).ToList();

    [Theory]
    [MemberData(nameof(Pages))]
    public void TheExamplesCompile(string page)
    {
        var blocks = CSharpBlocks(File.ReadAllText(Path.Combine(Root, page)));
        Assert.NotEmpty(blocks);
        var sample = ChildPrograms.Dll(Path.Combine("samples", "FashionMnist"), "FashionMnist");
        Assert.True(File.Exists(sample), sample + " is not built");
        var compilation = CSharpCompilation.Create(
            "DocsExample",
            blocks.Select((b, i) => CSharpSyntaxTree.ParseText(b, GeneratorHarness.ParseOptions, path: $"{page}#{i}.cs"))
                .Append(CSharpSyntaxTree.ParseText(ImplicitUsings, GeneratorHarness.ParseOptions, path: "ImplicitUsings.cs")),
            GeneratorHarness.BaseReferences.Add(MetadataReference.CreateFromFile(sample)),
            new CSharpCompilationOptions(OutputKind.ConsoleApplication, nullableContextOptions: NullableContextOptions.Enable));
        GeneratorDriver driver = CSharpGeneratorDriver.Create(new[] { new Lightning.Generators.Modules.LightningModuleGenerator().AsSourceGenerator() },
            parseOptions: GeneratorHarness.ParseOptions);
        driver.RunGeneratorsAndUpdateCompilation(compilation, out var output, out var generatorDiagnostics);
        var errors = generatorDiagnostics.AddRange(output.GetDiagnostics()).Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
        Assert.True(errors.Count == 0, $"{page}: its example does not compile:\n" + string.Join("\n", errors.Select(e => e.ToString())));
    }

    [Fact]
    public void TheBlocksAreFound()
    {
        Assert.Equal(new[] { "var x = 1;\n", "class A { }\n" }, CSharpBlocks("text\n```csharp\nvar x = 1;\n```\nmore\n```csharp\nclass A { }\n```\n```\nshell\n```"));
    }
}
