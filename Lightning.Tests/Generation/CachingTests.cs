using System.Linq;
using Lightning.Generators.Kernel;
using Lightning.Generators.Modules;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Xunit;

namespace Lightning.Tests.Generation;

/// <summary>The generator's incremental pipeline: edits that do not change a module must not regenerate it.</summary>
public class CachingTests
{
    private const string Module = """
        using Lightning;
        using TorchSharp;
        using static TorchSharp.torch;
        using static TorchSharp.torch.nn;

        [LightningModule]
        public partial class Tiny([Hyperparameter] int hidden = 8) : Module<Tensor, Tensor>(nameof(Tiny))
        {
            private readonly TorchSharp.Modules.Linear fc = Linear(4, hidden);
            public override Tensor forward(Tensor x) => fc.forward(x);

            [TrainingStep]
            Tensor TrainingStep((Tensor X, Tensor Y) batch, long batchIdx)
            {
                var loss = functional.mse_loss(forward(batch.X), batch.Y);
                Log("loss", loss);
                return loss;
            }

            [ConfigureOptimizers]
            Optimization ConfigureOptimizers() => torch.optim.Adam(parameters());
        }
        """;

    private static GeneratorDriver NewDriver() => CSharpGeneratorDriver.Create(
        new[] { new LightningModuleGenerator().AsSourceGenerator() },
        parseOptions: GeneratorHarness.ParseOptions, driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));

    [Fact]
    public void UnrelatedEditLeavesModelUnchangedAndOutputCached()
    {
        var compilation = GeneratorHarness.Compile(Module);
        var driver = NewDriver().RunGenerators(compilation);
        driver = driver.RunGenerators(compilation.AddSyntaxTrees(CSharpSyntaxTree.ParseText("class Unrelated { int x; }", GeneratorHarness.ParseOptions)));

        var result = driver.GetRunResult().Results[0];
        var model = result.TrackedSteps[TrackingNames.ModuleSpec].SelectMany(s => s.Outputs).ToList();
        Assert.NotEmpty(model);
        Assert.All(model, o => Assert.Equal(IncrementalStepRunReason.Unchanged, o.Reason));
        var outputs = result.TrackedOutputSteps.SelectMany(kv => kv.Value).SelectMany(s => s.Outputs).ToList();
        Assert.NotEmpty(outputs);
        Assert.All(outputs, o => Assert.Equal(IncrementalStepRunReason.Cached, o.Reason));
    }

    [Fact]
    public void EditInsideAMethodBodyThatKeepsTheModelLeavesOutputCached()
    {
        var compilation = GeneratorHarness.Compile(Module);
        var driver = NewDriver().RunGenerators(compilation);
        var tree = compilation.SyntaxTrees.Single();
        var edited = tree.WithChangedText(tree.GetText().Replace(Module.IndexOf("forward(batch.X)"), "forward(batch.X)".Length, "forward(batch.X * 1)"));
        driver = driver.RunGenerators(compilation.ReplaceSyntaxTree(tree, edited));

        var result = driver.GetRunResult().Results[0];
        // The transform ran again on the edited tree and produced an equal model.
        Assert.All(result.TrackedSteps[TrackingNames.ModuleSpec].SelectMany(s => s.Outputs),
            o => Assert.Equal(IncrementalStepRunReason.Unchanged, o.Reason));
        Assert.All(result.TrackedOutputSteps.SelectMany(kv => kv.Value).SelectMany(s => s.Outputs),
            o => Assert.Equal(IncrementalStepRunReason.Cached, o.Reason));
    }

    [Fact]
    public void ChangingAHyperparameterRegeneratesTheModule()
    {
        var compilation = GeneratorHarness.Compile(Module);
        var driver = NewDriver().RunGenerators(compilation);
        var tree = compilation.SyntaxTrees.Single();
        var edited = tree.WithChangedText(tree.GetText().Replace(Module.IndexOf("hidden = 8"), "hidden = 8".Length, "hidden = 16"));
        driver = driver.RunGenerators(compilation.ReplaceSyntaxTree(tree, edited));

        var result = driver.GetRunResult().Results[0];
        Assert.Contains(result.TrackedSteps[TrackingNames.ModuleSpec].SelectMany(s => s.Outputs), o => o.Reason == IncrementalStepRunReason.Modified);
        Assert.Contains("public int Hidden { get; init; } = 16;", result.GeneratedSources.Single().SourceText.ToString());
    }

    [Fact]
    public void PipelineModelsHoldNoSymbolsNodesLocationsOrCompilations()
    {
        var compilation = GeneratorHarness.Compile(Module);
        var driver = NewDriver().RunGenerators(compilation);
        var result = driver.GetRunResult().Results[0];
        var values = result.TrackedSteps[TrackingNames.ModuleSpec].SelectMany(s => s.Outputs).Select(o => o.Value).ToList();
        Assert.NotEmpty(values);
        foreach (var value in values) ModelWalker.AssertPure(value);
    }

    private const string CallbackClass = """
        using Lightning;

        [Callback]
        public partial class Printer
        {
            public int Epochs;
            void OnTrainEpochEnd(Trainer trainer) => Epochs++;

            [Callback(TrainerEvent.IterationCompleted, Every = 10)]
            void Every10() { }
        }
        """;

    private static GeneratorDriver NewCallbackDriver() => CSharpGeneratorDriver.Create(
        new[] { new Lightning.Generators.Callbacks.CallbackGenerator().AsSourceGenerator() },
        parseOptions: GeneratorHarness.ParseOptions, driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));

    [Fact]
    public void CallbackBodyEditLeavesItsOutputCachedAndAFilterEditRegeneratesIt()
    {
        var compilation = GeneratorHarness.Compile(CallbackClass);
        var driver = NewCallbackDriver().RunGenerators(compilation);
        var tree = compilation.SyntaxTrees.Single();

        var bodyEdit = tree.WithChangedText(tree.GetText().Replace(CallbackClass.IndexOf("Epochs++"), "Epochs++".Length, "Epochs += 2"));
        var result = driver.RunGenerators(compilation.ReplaceSyntaxTree(tree, bodyEdit)).GetRunResult().Results[0];
        var specs = result.TrackedSteps[TrackingNames.CallbackSpec].SelectMany(s => s.Outputs).ToList();
        Assert.NotEmpty(specs);
        Assert.All(specs, o => Assert.Equal(IncrementalStepRunReason.Unchanged, o.Reason));
        Assert.All(result.TrackedOutputSteps.SelectMany(kv => kv.Value).SelectMany(s => s.Outputs), o => Assert.Equal(IncrementalStepRunReason.Cached, o.Reason));
        foreach (var o in specs) ModelWalker.AssertPure(o.Value);

        var filterEdit = tree.WithChangedText(tree.GetText().Replace(CallbackClass.IndexOf("Every = 10"), "Every = 10".Length, "Every = 20"));
        result = driver.RunGenerators(compilation.ReplaceSyntaxTree(tree, filterEdit)).GetRunResult().Results[0];
        Assert.Contains(result.TrackedSteps[TrackingNames.CallbackSpec].SelectMany(s => s.Outputs), o => o.Reason == IncrementalStepRunReason.Modified);
        Assert.Contains("% 20 == 0", result.GeneratedSources.Single().SourceText.ToString());
    }

    [Fact]
    public void ABrokenModulesDiagnosticMovesWithoutRegeneratingItsCode()
    {
        // No [ConfigureOptimizers]: LTN0003 on the class name. Lines added above it move the diagnostic, not the code.
        var broken = Module.Replace("    [ConfigureOptimizers]\n", "");
        var compilation = GeneratorHarness.Compile(broken);
        var driver = NewDriver().RunGenerators(compilation);
        var first = driver.GetRunResult();
        var before = Assert.Single(first.Diagnostics, d => d.Id == "LTN0003").Location.GetLineSpan().StartLinePosition.Line;

        var tree = compilation.SyntaxTrees.Single();
        var at = broken.IndexOf("[LightningModule]", System.StringComparison.Ordinal);
        var edited = tree.WithChangedText(tree.GetText().Replace(at, 0, "// one\n// two\n"));
        var result = driver.RunGenerators(compilation.ReplaceSyntaxTree(tree, edited)).GetRunResult();

        Assert.Equal(before + 2, Assert.Single(result.Diagnostics, d => d.Id == "LTN0003").Location.GetLineSpan().StartLinePosition.Line);
        var steps = result.Results[0].TrackedSteps;
        Assert.Contains(steps[TrackingNames.ModuleSpec].SelectMany(s => s.Outputs), o => o.Reason == IncrementalStepRunReason.Modified);
        Assert.All(steps[TrackingNames.ModuleCode].SelectMany(s => s.Outputs),
            o => Assert.True(o.Reason is IncrementalStepRunReason.Unchanged or IncrementalStepRunReason.Cached, o.Reason.ToString()));
        Assert.Equal(first.GeneratedTrees.Single().ToString(), result.GeneratedTrees.Single().ToString());
        foreach (var step in steps[TrackingNames.ModuleSpec].SelectMany(s => s.Outputs)) ModelWalker.AssertPure(step.Value);
    }
}
