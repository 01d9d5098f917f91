using System;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using Xunit;

namespace Lightning.Tests.Samples;

/// <summary>The samples, end to end on tiny data: they train, learn, checkpoint and write their predictions.</summary>
[Collection("Training")]
public sealed class SampleTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("lightning-samples-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void TabularClassifierLearnsTheRuleAndWritesPredictions()
    {
        var output = new StringWriter();
        int code = TabularClassifier.TabularApp.Run(new[] { "--rows", "600", "--max-epochs", "6", "--out", _dir }, output);
        Assert.Equal(0, code);
        var text = output.ToString();
        var accuracy = double.Parse(Regex.Match(text, @"Test accuracy (\d\.\d+)").Groups[1].Value, CultureInfo.InvariantCulture);
        Assert.True(accuracy > 0.8, $"test accuracy {accuracy}\n{text}");
        var predictions = Regex.Match(text, @"Predictions (\S+)").Groups[1].Value;
        var lines = File.ReadAllLines(predictions);
        Assert.Equal("id,probability,label", lines[0]);
        Assert.Equal(150 + 1, lines.Length);   // the test file has rows / 4 = 150 rows
        Assert.Matches(@"tabular-val_acc=0\.\d{4}\.ckpt", Regex.Match(text, @"Best checkpoint (\S+)").Groups[1].Value);
    }

    [Fact]
    public void IgniteStyleEvaluatesEachEpochAndWritesSubmitCsv()
    {
        var output = new StringWriter();
        int code = IgniteStyle.IgniteApp.Run(new[] { "--rows", "700", "--max-epochs", "3", "--out", _dir }, output);
        Assert.Equal(0, code);
        var text = output.ToString();
        var epochs = Regex.Matches(text, @"Epoch \[(\d)\] train balanced accuracy: (\d\.\d+)  validation balanced accuracy: (\d\.\d+)");
        Assert.Equal(new[] { "0", "1", "2" }, epochs.Select(m => m.Groups[1].Value));
        var lastVal = double.Parse(epochs[^1].Groups[3].Value, CultureInfo.InvariantCulture);
        Assert.True(lastVal > 0.7, text);
        // 560 training rows, batch 32: 18 iterations an epoch, 54 in all: the Every = 50 handler fires once.
        Assert.Equal(new[] { "Iteration 50" }, Regex.Matches(text, @"Iteration \d+").Select(m => m.Value));
        var submit = File.ReadAllLines(Path.Combine(_dir, "submit.csv"));
        Assert.Equal("id,label", submit[0]);
        Assert.Equal(140 + 1, submit.Length);   // the test file has rows / 5 = 140 rows
        Assert.All(submit.Skip(1), l => Assert.Matches(@"^\d+,[012]$", l));
    }
}
