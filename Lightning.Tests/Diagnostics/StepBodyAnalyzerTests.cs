using System.Threading.Tasks;
using Lightning.CodeFixes;
using Xunit;
using static Lightning.Tests.Diagnostics.AnalyzerHarness;

namespace Lightning.Tests.Diagnostics;

/// <summary>StepBodyAnalyzer: manual optimization calls, Log keys and places, host syncs.</summary>
public class StepBodyAnalyzerTests
{
    private const string Good = ModuleRuleTests.Good;
    private const string LogLoss = "Log(\"loss\", loss);";

    // ---- LTN0005

    [Fact]
    public async Task BackwardInTrainingStepFires()
    {
        var message = await AssertFiresAsync(Good.Replace(LogLoss, LogLoss + "\n        [|loss.backward()|];"), "LTN0005");
        Assert.Contains("'backward()' is called in training-step code of 'Net'", message);
    }

    [Fact]
    public Task ZeroGradInAHelperCalledByTheTrainingStepFires() => AssertFiresAsync(
        Good.Replace(LogLoss, LogLoss + "\n        Reset();").Replace("    [ValidationStep]", "    void Reset() => [|zero_grad()|];\n\n    [ValidationStep]"),
        "LTN0005");

    [Fact]
    public Task OptimizerStepFires() => AssertFiresAsync(
        Good.Replace(LogLoss, LogLoss + "\n        [|optimizer.step()|];").Replace("    private readonly TorchSharp", "    private torch.optim.Optimizer optimizer = null!;\n    private readonly TorchSharp"),
        "LTN0005");

    [Fact]
    public Task ManualOptimizationAllowsTheCalls() => AssertCleanAsync(
        Good.Replace("[LightningModule]", "[LightningModule(AutomaticOptimization = false)]").Replace(LogLoss, LogLoss + "\n        loss.backward();"));

    [Fact]
    public async Task RemoveCallFixDeletesTheStatement()
    {
        var fixedText = await ApplyFixAsync(Good.Replace(LogLoss, LogLoss + "\n        loss.backward();"), "LTN0005", new RemoveManualOptimizationCallCodeFix());
        Assert.Equal(Good.Replace("\r\n", "\n"), fixedText);
    }

    // ---- LTN0010

    [Fact]
    public async Task NonConstantKeyWarns()
    {
        var message = await AssertFiresAsync(Good.Replace(LogLoss, "var name = \"lo\" + batchIdx;\n        Log([|name|], loss);"), "LTN0010");
        Assert.Contains("not a constant", message);
    }

    [Fact]
    public Task ConstKeyIsFine() => AssertCleanAsync(Good.Replace(LogLoss, "const string key = \"loss\";\n        Log(key, loss);"));

    // ---- LTN0011

    [Fact]
    public async Task LogInPredictStepFires()
    {
        var source = Good.Replace("    [ValidationStep]", "    [PredictStep]\n    Tensor PredictStep((Tensor X, Tensor Y) batch, long batchIdx)\n    {\n        [|Log(\"n\", 1.0)|];\n        return forward(batch.X);\n    }\n\n    [ValidationStep]");
        Assert.Contains("[PredictStep] method 'PredictStep'", await AssertFiresAsync(source, "LTN0011"));
    }

    [Fact]
    public Task LogInConfigureOptimizersFires() => AssertFiresAsync(Good.Replace(
        "Optimization ConfigureOptimizers() => torch.optim.Adam(parameters(), lr: LearningRate);",
        "Optimization ConfigureOptimizers()\n    {\n        [|Log(\"lr\", LearningRate)|];\n        return torch.optim.Adam(parameters(), lr: LearningRate);\n    }"), "LTN0011");

    // ---- LTN0012

    [Fact]
    public async Task ItemInTrainingStepIsReported()
    {
        var message = await AssertFiresAsync(Good.Replace(LogLoss, "System.Console.WriteLine([|loss.item<float>()|]);"), "LTN0012");
        Assert.Contains("'item()'", message);
    }

    [Fact]
    public Task ToDoubleInValidationIsFine() => AssertCleanAsync(Good.Replace(
        "void ValidationStep((Tensor X, Tensor Y) batch, long batchIdx) => Log(\"val_loss\", functional.mse_loss(forward(batch.X), batch.Y));",
        "void ValidationStep((Tensor X, Tensor Y) batch, long batchIdx) => Log(\"val_loss\", functional.mse_loss(forward(batch.X), batch.Y).ToDouble());"));
}
