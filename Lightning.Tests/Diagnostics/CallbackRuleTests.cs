using System.Threading.Tasks;
using Lightning.CodeFixes;
using Xunit;
using static Lightning.Tests.Diagnostics.AnalyzerHarness;

namespace Lightning.Tests.Diagnostics;

/// <summary>One test each per callback and hook rule (LTN0014-LTN0018; the generators report LTN0014-LTN0016): fires with the right span, silent on the good case, code fixes.</summary>
public class CallbackRuleTests
{
    private const string GoodCallback = """
        [Callback]
        public partial class Printer
        {
            public int Calls;
            void OnTrainEpochEnd(Trainer trainer, ILightningModule module) => Calls++;
            void OnTrainBatchEnd(long batchIdx, Tensor? loss) => Calls++;
            void Helper() { }

            [Callback(TrainerEvent.EpochCompleted, Every = 2)]
            void Every2(Trainer trainer) => Calls++;
        }
        """;

    [Fact]
    public Task GoodCallbackAndModuleHaveNoDiagnostics() => AssertCleanAsync(GoodCallback + "\n" + ModuleRuleTests.Good);

    // ---- LTN0014

    [Fact]
    public async Task CallbackNotPartialFires()
    {
        var message = await AssertFiresAsync(GoodCallback.Replace("public partial class Printer", "public class [|Printer|]"), "LTN0014");
        Assert.Contains("'Printer' must be declared partial", message);
    }

    [Fact]
    public async Task CallbackNotPartialFixAddsPartial()
    {
        var fixedText = await ApplyFixAsync(GoodCallback.Replace("public partial class Printer", "public class Printer"), "LTN0014", new AddPartialCodeFix());
        Assert.Equal(GoodCallback.Replace("\r\n", "\n"), fixedText);
    }

    // ---- LTN0015

    [Theory]
    [InlineData("void [|OnTrainEpochEnd|](long batchIdx) { }", "OnTrainEpochEnd does not pass a batch index (long)")]
    [InlineData("int [|OnTrainEpochEnd|]() => 1;", "returns 'int'; hooks return void")]
    [InlineData("void [|OnFitStart|](string name) { }", "no hook passes a 'string'")]
    [InlineData("static void [|OnFitStart|]() { }", "it is static")]
    [InlineData("void [|OnFitStart|](Trainer a, Trainer b) { }", "the Trainer is taken twice")]
    [InlineData("[Callback(TrainerEvent.EpochCompleted)] void [|Report|](Tensor loss) { }", "cannot be called by TrainerEvent.EpochCompleted")]
    public async Task HookSignatureFires(string method, string expected)
    {
        var message = await AssertFiresAsync("[Callback]\npublic partial class P\n{\n    " + method + "\n}", "LTN0015");
        Assert.Contains(expected, message);
        Assert.Contains("it passes (", message);
    }

    [Fact]
    public Task HooksTakingEveryKindOfArgumentAreFine() => AssertCleanAsync("""
        [Callback]
        public partial class Everything
        {
            void OnException(System.Exception exception, Trainer trainer) { }
            void OnBeforeOptimizerStep(torch.optim.Optimizer optimizer, ILightningModule module) { }
            void OnTrainBatchEnd(Tensor? loss, long batchIdx) { }
            void OnBeforeBackward(Tensor loss) { }
        }
        """);

    [Fact]
    public void ACallbackNestedInAGenericTypeGeneratesNothingThatBreaks()
    {
        var (files, diagnostics) = Lightning.Tests.Generation.GeneratorHarness.Run(Usings + "public static partial class Outer<T>\n{\n" + GoodCallback + "\n}\n");
        Assert.True(diagnostics.IsEmpty, string.Join("\n", diagnostics));
        Assert.Empty(files);
    }

    [Fact]
    public Task HookTakingItsOwnModuleClassIsFine() =>
        AssertCleanAsync(ModuleRuleTests.Good.Replace("    [ConfigureOptimizers]", "    void OnTrainEpochEnd(Trainer trainer, Net self) { }\n\n    [ConfigureOptimizers]"));

    // ---- LTN0016

    [Theory]
    [InlineData("[[|Callback((TrainerEvent)42)|]]", "names the event 42, which is not a TrainerEvent")]
    [InlineData("[[|Callback(TrainerEvent.EpochCompleted, Every = 2, Once = 3)|]]", "sets both Every and Once")]
    [InlineData("[[|Callback(TrainerEvent.EpochCompleted, Every = -1)|]]", "must be positive")]
    [InlineData("[[|Callback|]]", "names no event")]
    public async Task CallbackAttributeMisuseFires(string attribute, string expected)
    {
        var message = await AssertFiresAsync("[Callback]\npublic partial class P\n{\n    " + attribute + "\n    void Handler() { }\n}", "LTN0016");
        Assert.Contains(expected, message);
    }

    [Fact]
    public async Task HandlerOutsideACallbackOrModuleFires()
    {
        var message = await AssertFiresAsync("public class Plain\n{\n    [[|Callback(TrainerEvent.Started)|]]\n    void Handler() { }\n}", "LTN0016");
        Assert.Contains("neither [Callback] nor [LightningModule]", message);
    }

    // ---- LTN0017

    [Theory]
    [InlineData("OnTrainEpochEnds", "OnTrainEpochEnd")]
    [InlineData("onTrainEpochEnd", "OnTrainEpochEnd")]
    [InlineData("OnValidationEnded", "OnValidationEnd")]
    public async Task NearMissFires(string name, string hook)
    {
        var message = await AssertFiresAsync($"[Callback]\npublic partial class P\n{{\n    void [|{name}|]() {{ }}\n}}", "LTN0017");
        Assert.Contains($"did you mean '{hook}'", message);
    }

    [Fact]
    public Task UnrelatedOnMethodsDoNotFire() =>
        AssertCleanAsync("[Callback]\npublic partial class P\n{\n    void OnSomethingElse() { }\n    void OnClick() { }\n}");

    [Fact]
    public async Task NearMissFixRenamesTheMethodAndItsCalls()
    {
        var source = "[Callback]\npublic partial class P\n{\n    void OnTrainEpochEnds() { }\n    void Again() => OnTrainEpochEnds();\n}";
        var fixedText = await ApplyFixAsync(source, "LTN0017", new RenameToHookCodeFix());
        Assert.Equal(source.Replace("OnTrainEpochEnds", "OnTrainEpochEnd"), fixedText);
    }

    // ---- LTN0018

    private const string Manual = """
        [LightningModule(AutomaticOptimization = false)]
        public partial class M() : Module<Tensor, Tensor>(nameof(M))
        {
            private readonly TorchSharp.Modules.Linear fc = Linear(4, 1);
            public override Tensor forward(Tensor x) => fc.forward(x);

            [TrainingStep]
            Tensor TrainingStep((Tensor X, Tensor Y) batch)
            {
                var loss = functional.mse_loss(forward(batch.X), batch.Y);
                ManualBackward(loss);
                Optimizers().step();
                Optimizers().zero_grad();
                return loss;
            }

            [ConfigureOptimizers]
            Optimization ConfigureOptimizers() => torch.optim.SGD(parameters(), 0.1);
        }

        public static class App
        {
            public static void Run(System.Collections.Generic.List<(Tensor X, Tensor Y)> data)
            {
                var options = new TrainerOptions { MaxEpochs = 1, SETTING };
                var trainer = new Trainer(options);
                var model = new M();
                CALL;
            }
        }
        """;

    [Theory]
    [InlineData("GradientClipVal = 1.0", "GradientClipVal")]
    [InlineData("AccumulateGradBatches = 4", "AccumulateGradBatches")]
    public async Task ManualOptimizationWithClippingOrAccumulationFires(string setting, string expected)
    {
        var message = await AssertFiresAsync(Manual.Replace("SETTING", setting).Replace("CALL", "[|trainer.Fit(model, data)|]"), "LTN0018");
        Assert.Contains($"'M' optimizes manually, but the trainer is set up with {expected}", message);
    }

    [Fact]
    public Task ManualOptimizationWithoutThoseOptionsIsFine() =>
        AssertCleanAsync(Manual.Replace("SETTING", "AccumulateGradBatches = 1").Replace("CALL", "trainer.Fit(model, data)"));
}
