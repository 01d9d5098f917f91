using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using Lightning.Cli;
using Lightning.Tests.Diagnostics;
using Lightning.Tests.Generation;
using Lightning.Tests.Training;
using Microsoft.CodeAnalysis;
using Xunit;
using static TorchSharp.torch;

namespace Lightning.Tests.Cli;

/// <summary>
/// Issue 15: the command line knows the module through the static members the generator implements
/// (<see cref="ICliModule{TSelf, THParams, TBatch}"/>), not through reflection or a list of delegates.
/// </summary>
public class CliModuleTests
{
    /// <summary>APIs that look a member up at run time (or build one), which the runtime does not use: generated code calls it directly.</summary>
    private static readonly Regex ReflectionApis = new(
        @"System\.Reflection|MakeGeneric(Method|Type)|GetGeneric(TypeDefinition|Arguments)|\bGet(Methods?|Interfaces|Constructors?|Members?|Fields?)\(" +
        @"|(GetType\(\)|typeof\([^)]*\))\.GetPropert(y|ies)\(|MethodInfo|BindingFlags|InvokeMember|Activator\.|\bType\.GetType\(");

    [Fact]
    public void TheRuntimeUsesNoReflection()
    {
        var root = Path.Combine(Path.GetDirectoryName(GeneratorHarness.ProjectDirectory())!, "Lightning.Runtime");
        var files = Directory.EnumerateFiles(root, "*.cs", SearchOption.AllDirectories)
            .Where(f => !Path.GetRelativePath(root, f).StartsWith("obj", StringComparison.Ordinal) && !Path.GetRelativePath(root, f).StartsWith("bin", StringComparison.Ordinal))
            .ToList();
        Assert.Contains(files, f => f.EndsWith(Path.Combine("Cli", "LightningCli.cs"), StringComparison.Ordinal));
        var found = new List<string>();
        foreach (var file in files)
        {
            var lines = File.ReadAllLines(file);
            for (int i = 0; i < lines.Length; i++)
                if (ReflectionApis.Match(lines[i]) is { Success: true } m)
                    found.Add($"{Path.GetRelativePath(root, file)}:{i + 1}: {m.Value}");
        }
        Assert.True(found.Count == 0, "reflection in Lightning.Runtime:\n" + string.Join("\n", found));
    }

    /// <summary>What LightningCli.Run reads, read here the same way (through the type parameter).</summary>
    private static (string Name, CliCommands Commands, IReadOnlyList<CliOption<THParams>> Options, THParams Defaults) Read<TModule, THParams, TBatch>()
        where TModule : ICliModule<TModule, THParams, TBatch>
        where THParams : IHyperParameters =>
        (TModule.CliName, TModule.Commands, TModule.HyperparameterOptions, TModule.DefaultHParams);

    [Fact]
    public void AGeneratedModuleGivesTheCommandLineItsNameCommandsOptionsAndDefaults()
    {
        var (name, commands, options, defaults) = Read<TinyClassifier, TinyClassifier.HParams, (Tensor X, Tensor Y)>();
        Assert.Equal("TinyClassifier", name);
        Assert.Equal(CliCommands.All, commands);   // validation, test and predict steps
        Assert.Equal(new TinyClassifier.HParams(), defaults);
        Assert.Equal(defaults.Values.Select(v => v.Name), options.Select(o => o.JsonName));

        var (_, manual, _, _) = Read<ManualClassifier, ManualClassifier.HParams, (Tensor X, Tensor Y)>();
        Assert.Equal(CliCommands.Fit, manual);
    }

    private const string Predict = "    [PredictStep]\n    Tensor PredictStep((Tensor X, Tensor Y) batch) => forward(batch.X);\n\n    [ConfigureOptimizers]";

    [Theory]
    [InlineData("without a predict step", false, false)]
    [InlineData("with a predict step", true, false)]
    [InlineData("with a hyperparameter error (Create is a stand-in)", false, true)]
    public void TheGeneratedModuleImplementsICliModule(string what, bool predict, bool brokenHparams)
    {
        var source = ModuleRuleTests.Good;
        if (predict) source = source.Replace("    [ConfigureOptimizers]", Predict, StringComparison.Ordinal);
        if (brokenHparams) source = source.Replace("public double LearningRate { get; init; } = 1e-3;", "public double LearningRate { get; init; }", StringComparison.Ordinal);
        var (net, diagnostics, generated) = CompileNet(source);
        Assert.True(diagnostics.Length == 0, what + ": " + string.Join("\n", diagnostics));
        Assert.Equal(brokenHparams, generated.Contains("public static Net Create(HParams hparams) => throw", StringComparison.Ordinal));

        var cli = net.AllInterfaces.SingleOrDefault(i => i.OriginalDefinition.ToDisplayString() == "Lightning.Cli.ICliModule<TSelf, THParams, TBatch>");
        Assert.NotNull(cli);
        Assert.Equal("Net", cli.TypeArguments[0].Name);
        Assert.Equal("Net.HParams", cli.TypeArguments[1].ToDisplayString());
        Assert.Equal("(TorchSharp.torch.Tensor X, TorchSharp.torch.Tensor Y)", cli.TypeArguments[2].ToDisplayString());
        // Every static member is the module's own, except Predict without a predict step (the interface's error).
        foreach (var member in cli.GetMembers().Where(m => m.IsStatic && m.Kind is SymbolKind.Method or SymbolKind.Property))
        {
            var implementation = net.FindImplementationForInterfaceMember(member);
            Assert.NotNull(implementation);
            var byModule = SymbolEqualityComparer.Default.Equals(implementation.ContainingType, net);
            Assert.True(byModule == (member.Name != "Predict" || predict), $"{what}: {member.Name} is implemented by {implementation.ContainingType}");
        }
    }

    [Fact]
    public void AModuleWithoutABatchTypeHasOnlyTheRunCliStandIn()
    {
        // As the broken-module matrix's case: no step attribute, and no method named as one.
        var source = ModuleRuleTests.Good.Replace("    [TrainingStep]\n", "").Replace("    [ValidationStep]\n", "").Replace("Tensor TrainingStep(", "Tensor Step(");
        var (net, diagnostics, _) = CompileNet(source);
        Assert.True(diagnostics.Length == 0, string.Join("\n", diagnostics));
        Assert.DoesNotContain(net.AllInterfaces, i => i.Name == "ICliModule");
        Assert.Contains(net.GetMembers("RunCli"), m => m is IMethodSymbol { IsGenericMethod: true });
    }

    /// <summary>The module <c>Net</c> of <paramref name="source"/> after generation, the compiler's warnings and errors, and Net's generated file.</summary>
    private static (INamedTypeSymbol Net, Diagnostic[] Diagnostics, string Generated) CompileNet(string source)
    {
        var compilation = GeneratorHarness.Compile(AnalyzerHarness.Usings + source);
        AnalyzerHarness.Generators().RunGeneratorsAndUpdateCompilation(compilation, out var withGenerated, out _);
        var diagnostics = withGenerated.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning).ToArray();
        var net = withGenerated.GetTypeByMetadataName("Net");
        Assert.NotNull(net);
        var generated = withGenerated.SyntaxTrees.Single(t => t.FilePath.EndsWith("Net.Lightning.g.cs", StringComparison.Ordinal)).ToString();
        return (net, diagnostics, generated);
    }
}
