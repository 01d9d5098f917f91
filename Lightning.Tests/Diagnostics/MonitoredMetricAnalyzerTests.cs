using System.Threading.Tasks;
using Lightning.Generators.Diagnostics;
using Lightning.Generators.Kernel;
using Xunit;
using static Lightning.Tests.Diagnostics.AnalyzerHarness;

namespace Lightning.Tests.Diagnostics;

/// <summary>LTN0013: a monitored metric that no Log call logs.</summary>
public class MonitoredMetricAnalyzerTests
{
    private const string Good = ModuleRuleTests.Good;

    private static string WithCheckpoint(string monitor) => Good + $$"""

        public static class Setup
        {
            public static Lightning.Callbacks.ModelCheckpoint Checkpoint() => new() { Monitor = {{monitor}}, Mode = Lightning.MonitorMode.Min };
        }
        """;

    [Fact]
    public async Task ATypoInTheMonitorWarnsAndSuggestsTheLoggedName()
    {
        var message = await AssertFiresAsync(WithCheckpoint("[|\"val_los\"|]"), "LTN0013");
        Assert.Contains("'val_los' is monitored here", message);
        Assert.Contains("did you mean 'val_loss'?", message);
    }

    [Fact]
    public Task ALoggedMetricIsFine() => AssertCleanAsync(WithCheckpoint("\"val_loss\""));

    [Theory]
    [InlineData("\"epoch\"")]
    [InlineData("\"step\"")]
    public Task EpochAndStepAreAlwaysMonitorCandidates(string monitor) => AssertCleanAsync(WithCheckpoint(monitor));

    [Fact]
    public Task AConstantThatNamesALoggedMetricIsFine() => AssertCleanAsync(
        WithCheckpoint("Keys.ValLoss") + "\npublic static class Keys { public const string ValLoss = \"val_loss\"; }\n");

    [Theory]
    [InlineData("val_loss", "val_loss", 0)]
    [InlineData("val_los", "val_loss", 1)]
    [InlineData("acc", "val_acc", 4)]
    public void DistanceCountsEdits(string a, string b, int expected) => Assert.Equal(expected, MonitoredMetricAnalyzer.Distance(a, b));
}
