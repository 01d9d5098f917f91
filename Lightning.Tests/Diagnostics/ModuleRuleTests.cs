using System.Threading.Tasks;
using Lightning.CodeFixes;
using Xunit;
using static Lightning.Tests.Diagnostics.AnalyzerHarness;

namespace Lightning.Tests.Diagnostics;

/// <summary>One test each per module declaration rule (reported by the generator): it fires on the smallest bad case with the right span, and not on the good one.</summary>
public class ModuleRuleTests
{
    /// <summary>A correct module; tests replace pieces of it.</summary>
    internal const string Good = """
        [LightningModule]
        public partial class Net([Hyperparameter] int hidden = 8) : Module<Tensor, Tensor>(nameof(Net))
        {
            [Hyperparameter] public double LearningRate { get; init; } = 1e-3;
            private readonly TorchSharp.Modules.Linear fc = Linear(4, hidden);
            public override Tensor forward(Tensor x) => fc.forward(x);

            [TrainingStep]
            Tensor TrainingStep((Tensor X, Tensor Y) batch, long batchIdx)
            {
                var loss = functional.mse_loss(forward(batch.X), batch.Y);
                Log("loss", loss);
                return loss;
            }

            [ValidationStep]
            void ValidationStep((Tensor X, Tensor Y) batch, long batchIdx) => Log("val_loss", functional.mse_loss(forward(batch.X), batch.Y));

            [ConfigureOptimizers]
            Optimization ConfigureOptimizers() => torch.optim.Adam(parameters(), lr: LearningRate);
        }
        """;

    [Fact]
    public Task GoodModuleHasNoDiagnostics() => AssertCleanAsync(Good);

    // ---- LTN0001

    [Fact]
    public async Task NotPartialFires()
    {
        var message = await AssertFiresAsync(Good.Replace("public partial class Net(", "public class [|Net|]("), "LTN0001");
        Assert.Contains("'Net' must be declared partial", message);
    }

    [Fact]
    public async Task NonPartialContainingTypeFires()
    {
        var message = await AssertFiresAsync("public static class [|Outer|]\n{\n" + Good + "\n}", "LTN0001");
        Assert.Contains("'Outer' must be declared partial", message);
        Assert.Contains("contains the Lightning module 'Net'", message);
    }

    [Fact]
    public async Task NotPartialFixAddsPartial()
    {
        var fixedText = await ApplyFixAsync(Good.Replace("public partial class Net(", "public class Net("), "LTN0001", new AddPartialCodeFix());
        Assert.Equal(Good.Replace("\r\n", "\n"), fixedText);
    }

    // ---- LTN0002

    [Fact]
    public async Task NoTrainingStepFires()
    {
        var source = Good.Replace("public partial class Net(", "public partial class [|Net|](").Replace("[TrainingStep]", "");
        Assert.Contains("'Net' has no [TrainingStep]", await AssertFiresAsync(source, "LTN0002"));
    }

    // ---- LTN0003

    [Fact]
    public async Task NoOptimizerFires()
    {
        var source = Good.Replace("public partial class Net(", "public partial class [|Net|](").Replace("[ConfigureOptimizers]", "");
        Assert.Contains("'Net' has no [ConfigureOptimizers]", await AssertFiresAsync(source, "LTN0003"));
    }

    [Fact]
    public async Task NoOptimizerFixAddsAdamWithTheLearningRate()
    {
        var withoutOptimizer = Good.Replace("""

                [ConfigureOptimizers]
                Optimization ConfigureOptimizers() => torch.optim.Adam(parameters(), lr: LearningRate);
            """, "");
        Assert.DoesNotContain("ConfigureOptimizers", withoutOptimizer);
        var fixedText = await ApplyFixAsync(withoutOptimizer, "LTN0003", new AddConfigureOptimizersCodeFix());
        Assert.Contains("[ConfigureOptimizers]", fixedText);
        // Names are simplified against the file's usings (here `using static TorchSharp.torch`).
        Assert.Contains("private Optimization ConfigureOptimizers() => optim.Adam(parameters(), lr: LearningRate);", fixedText);
        await AssertCleanAsync(fixedText);
    }

    // ---- LTN0004

    [Fact]
    public async Task OptimizerReturningSomethingElseFires()
    {
        var source = Good.Replace("Optimization ConfigureOptimizers() => torch.optim.Adam(parameters(), lr: LearningRate);",
            "[|int|] ConfigureOptimizers() => 1;");
        Assert.Contains("returns 'int'", await AssertFiresAsync(source, "LTN0004"));
    }

    [Fact]
    public async Task SecondOptimizerMethodFires()
    {
        var source = Good.TrimEnd().TrimEnd('}') + "\n    [ConfigureOptimizers]\n    Optimization [|Second|]() => torch.optim.SGD(parameters(), 0.1);\n}\n";
        Assert.Contains("second [ConfigureOptimizers]", await AssertFiresAsync(source, "LTN0004"));
    }

    [Fact]
    public Task OptimizerSubclassReturnIsFine() => AssertCleanAsync(Good.Replace(
        "Optimization ConfigureOptimizers() => torch.optim.Adam(parameters(), lr: LearningRate);",
        "TorchSharp.Modules.Adam ConfigureOptimizers() => torch.optim.Adam(parameters(), lr: LearningRate);"));

    // ---- LTN0006

    [Fact]
    public async Task TrainingStepReturningFloatFires()
    {
        var source = Good.Replace("    Tensor TrainingStep(", "    [|float|] TrainingStep(").Replace("return loss;", "return 0f;");
        Assert.Contains("returns 'float'", await AssertFiresAsync(source, "LTN0006"));
    }

    [Fact]
    public async Task BatchIndexOfWrongTypeFires()
    {
        var source = Good.Replace("Tensor TrainingStep((Tensor X, Tensor Y) batch, long batchIdx)", "Tensor TrainingStep((Tensor X, Tensor Y) batch, [|string|] batchIdx)");
        Assert.Contains("batch index of type 'string'", await AssertFiresAsync(source, "LTN0006"));
    }

    [Fact]
    public async Task ValidationBatchOfAnotherTypeFires()
    {
        var source = Good.Replace("void ValidationStep((Tensor X, Tensor Y) batch, long batchIdx) => Log(\"val_loss\", functional.mse_loss(forward(batch.X), batch.Y));",
            "void ValidationStep([|Tensor|] batch, long batchIdx) => Log(\"val_loss\", forward(batch).mean());");
        Assert.Contains("every step must take the same batch type", await AssertFiresAsync(source, "LTN0006"));
    }

    [Fact]
    public async Task BatchWithoutTensorsFires()
    {
        var source = Good.Replace("Tensor TrainingStep((Tensor X, Tensor Y) batch, long batchIdx)", "Tensor TrainingStep([|int|] batch, long batchIdx)")
            .Replace("functional.mse_loss(forward(batch.X), batch.Y)", "fc.weight!.sum()")
            .Replace("[ValidationStep]", "");
        Assert.Contains("holds no tensor", await AssertFiresAsync(source, "LTN0006"));
    }

    [Fact]
    public async Task StepWithThreeParametersFires()
    {
        var source = Good.Replace("Tensor TrainingStep((Tensor X, Tensor Y) batch, long batchIdx)", "Tensor [|TrainingStep|]((Tensor X, Tensor Y) batch, long batchIdx, int extra)");
        Assert.Contains("takes 3 parameters", await AssertFiresAsync(source, "LTN0006"));
    }

    // ---- LTN0007, LTN0008, LTN0009

    [Fact]
    public async Task UnsupportedHyperparameterTypeFires()
    {
        var source = Good.Replace("    private readonly", "    [Hyperparameter] public int[] [|Layers|] { get; init; } = new[] { 1 };\n    private readonly");
        Assert.Contains("'Layers' has type 'int[]'", await AssertFiresAsync(source, "LTN0007"));
    }

    [Fact]
    public async Task PropertyWithoutDefaultFires()
    {
        var source = Good.Replace("public double LearningRate { get; init; } = 1e-3;", "public double [|LearningRate|] { get; init; }");
        Assert.Contains("'LearningRate' needs a constant default", await AssertFiresAsync(source, "LTN0008"));
    }

    [Fact]
    public async Task NonConstantDefaultFires()
    {
        var source = Good.Replace("public double LearningRate { get; init; } = 1e-3;", "public double LearningRate { get; init; } = [|System.Math.Sqrt(2)|];");
        await AssertFiresAsync(source, "LTN0008");
    }

    [Fact]
    public async Task ParameterWithoutDefaultFires()
    {
        var source = Good.Replace("[Hyperparameter] int hidden = 8", "[Hyperparameter] int [|hidden|]");
        Assert.Contains("'hidden' needs a constant default", await AssertFiresAsync(source, "LTN0008"));
    }

    [Fact]
    public async Task GetOnlyPropertyFires()
    {
        var source = Good.Replace("public double LearningRate { get; init; } = 1e-3;", "public double [|LearningRate|] { get; } = 1e-3;");
        Assert.Contains("has no init or set accessor", await AssertFiresAsync(source, "LTN0009"));
    }

    [Fact]
    public async Task OrdinaryConstructorParameterFires()
    {
        var source = """
            [LightningModule]
            public partial class Plain : Module<Tensor, Tensor>
            {
                private readonly TorchSharp.Modules.Linear fc;
                public Plain([Hyperparameter] int [|hidden|] = 4) : base(nameof(Plain)) { fc = Linear(4, hidden); RegisterComponents(); }
                public override Tensor forward(Tensor x) => fc.forward(x);
                [TrainingStep] Tensor TrainingStep(Tensor batch) => forward(batch).sum();
                [ConfigureOptimizers] Optimization ConfigureOptimizers() => torch.optim.Adam(parameters());
            }
            """;
        Assert.Contains("ordinary constructor", await AssertFiresAsync(source, "LTN0009"));
    }

    // ---- LTN0019

    [Fact]
    public async Task ParameterDefaultBelowMinFires()
    {
        var source = Good.Replace("[Hyperparameter] int hidden = 8", "[Hyperparameter(Min = 16)] int hidden = [|8|]");
        Assert.Contains("'hidden' has the default 8, below its Min of 16", await AssertFiresAsync(source, "LTN0019"));
    }

    [Fact]
    public async Task PropertyDefaultAboveMaxFires()
    {
        var source = Good.Replace("[Hyperparameter] public double LearningRate { get; init; } = 1e-3;",
            "[Hyperparameter(Max = 1e-4)] public double LearningRate { get; init; } = [|1e-3|];");
        Assert.Contains("'LearningRate' has the default 0.001, above its Max of 0.0001", await AssertFiresAsync(source, "LTN0019"));
    }

    [Fact]
    public async Task DefaultOutsideChoicesFires()
    {
        var source = Good.Replace("[Hyperparameter] public double LearningRate", """
            [Hyperparameter(Choices = new[] { "adam", "sgd" })] public string Optimizer { get; init; } = [|"adamw"|];
                [Hyperparameter] public double LearningRate
            """);
        Assert.Contains("'Optimizer' has the default \"adamw\", which is not one of its Choices (adam, sgd)", await AssertFiresAsync(source, "LTN0019"));
    }

    [Fact]
    public async Task MinGreaterThanMaxFires()
    {
        var source = Good.Replace("[Hyperparameter] int hidden = 8", "[Hyperparameter([|Min = 10|], Max = 1)] int hidden = 8");
        Assert.Contains("'hidden' has Min = 10 greater than Max = 1", await AssertFiresAsync(source, "LTN0019"));
    }

    [Fact]
    public async Task MinOnAStringFires()
    {
        var source = Good.Replace("[Hyperparameter] public double LearningRate", """
            [Hyperparameter([|Min = 1|])] public string Optimizer { get; init; } = "adam";
                [Hyperparameter] public double LearningRate
            """);
        var message = await AssertFiresAsync(source, "LTN0019");
        Assert.Contains("'Optimizer' has Min, but Min and Max apply only to int, long, float and double hyperparameters; it is a string", message);
        Assert.Contains("use Choices", message);
    }

    [Fact]
    public async Task ChoicesOnANumberFires()
    {
        var source = Good.Replace("[Hyperparameter] int hidden = 8", "[Hyperparameter([|Choices = new[] { \"8\" }|])] int hidden = 8");
        Assert.Contains("'hidden' has Choices, but Choices apply only to string hyperparameters; it is a int", await AssertFiresAsync(source, "LTN0019"));
    }

    [Fact]
    public async Task AFractionalBoundOnAnIntFires()
    {
        var source = Good.Replace("[Hyperparameter] int hidden = 8", "[Hyperparameter([|Min = 0.5|])] int hidden = 8");
        Assert.Contains("'hidden' has Min = 0.5, which is not a whole number", await AssertFiresAsync(source, "LTN0019"));
    }

    [Fact]
    public Task ValidRangesAreSilent() => AssertCleanAsync(Good
        .Replace("[Hyperparameter] int hidden = 8", "[Hyperparameter(Min = 1, Max = 8)] int hidden = 8")
        .Replace("[Hyperparameter] public double LearningRate { get; init; } = 1e-3;", """
            [Hyperparameter(Min = 1e-3)] public double LearningRate { get; init; } = 1e-3;
                [Hyperparameter(Max = 0.1)] public float Dropout { get; init; } = 0.1f;
                [Hyperparameter(Min = -1, Max = 1)] public long Offset { get; init; } = -1;
                [Hyperparameter(Choices = new[] { "adam", "sgd" })] public string Optimizer { get; init; } = "sgd";
            """));

    [Fact]
    public void AnInvalidRangeStillGeneratesCompilingCode()
    {
        var source = Usings + Good
            .Replace("[Hyperparameter] int hidden = 8", "[Hyperparameter(Min = 10, Max = 1, Choices = new[] { \"x\" })] int hidden = 8")
            .Replace("[Hyperparameter] public double LearningRate", "[Hyperparameter(Min = 0.5)] public string Name { get; init; } = \"n\";\n    [Hyperparameter] public double LearningRate");
        var (files, diagnostics) = Lightning.Tests.Generation.GeneratorHarness.Run(source);
        Assert.True(diagnostics.IsEmpty, string.Join("\n", diagnostics));
        var generated = Assert.Single(files).Text;
        Assert.Contains("// No hyperparameter of Net declares a range.", generated);   // every bound was invalid, so none is checked
    }
}
