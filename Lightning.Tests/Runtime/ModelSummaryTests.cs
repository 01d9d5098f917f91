using System;
using System.Linq;
using System.Text.RegularExpressions;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;
using Lightning.Callbacks;
using Lightning.Data;
using Lightning.Reporting;

namespace Lightning.Tests.Runtime;

public sealed class ModelSummaryTests
{
    [Theory]
    [InlineData(0L, "0")]
    [InlineData(640L, "640")]
    [InlineData(999L, "999")]
    [InlineData(1_000L, "1.0 K")]
    [InlineData(73_900L, "73.9 K")]
    [InlineData(137_000L, "137 K")]
    [InlineData(137_226L, "137 K")]
    [InlineData(137_990L, "137 K")]
    [InlineData(999_950L, "999 K")]
    [InlineData(1_200_000L, "1.2 M")]
    [InlineData(25_600_000_000L, "25.6 B")]
    [InlineData(3_000_000_000_000L, "3.0 T")]
    [InlineData(4_000_000_000_000_000L, "4000 T")]
    public void CountFormatsLikeLightning(long n, string expected) => Assert.Equal(expected, ModelSummaryTable.Count(n));

    private static torch.nn.Module<Tensor, Tensor> SmallNet() => torch.nn.Sequential(
        ("fc1", torch.nn.Linear(4, 3)),
        ("act", torch.nn.ReLU()),
        ("fc2", torch.nn.Linear(3, 2)));

    private static string[] Lines(string text) => text.Split('\n').Select(l => l.TrimEnd('\r')).ToArray();

    [Fact]
    public void FormatListsChildrenAndTotals()
    {
        using var net = SmallNet();
        var lines = Lines(ModelSummaryTable.Format(net));

        var rows = lines.Where(l => Regex.IsMatch(l, @"^\d+ \|"))
                        .Select(l => l.Split('|').Select(c => c.Trim()).ToArray())
                        .ToArray();
        Assert.Equal(3, rows.Length);
        Assert.Equal(new[] { "0", "fc1", "Linear", "15", "train" }, rows[0]);
        Assert.Equal(new[] { "1", "act", "ReLU", "0", "train" }, rows[1]);
        Assert.Equal(new[] { "2", "fc2", "Linear", "8", "train" }, rows[2]);

        Assert.Contains(lines, l => Regex.IsMatch(l, @"^23\s+Trainable params$"));
        Assert.Contains(lines, l => Regex.IsMatch(l, @"^0\s+Non-trainable params$"));
        Assert.Contains(lines, l => Regex.IsMatch(l, @"^23\s+Total params$"));
        Assert.Contains(lines, l => Regex.IsMatch(l, @"^0\.000\s+Total estimated model params size \(MB\)$"));
        Assert.Matches(@"^\s+\| Name\s+\| Type\s+\| Params", lines[0]);
    }

    [Fact]
    public void MaxDepthListsNestedLayersWithDottedNames()
    {
        using var net = torch.nn.Sequential(("block", torch.nn.Sequential(("conv", torch.nn.Linear(2, 2)), ("act", torch.nn.ReLU()))), ("head", torch.nn.Linear(2, 1)));
        net.eval();
        string Names(int depth) => string.Join(",", Lines(ModelSummaryTable.Format(net, depth))
            .Where(l => Regex.IsMatch(l, @"^\d+ \|")).Select(l => l.Split('|')[1].Trim()));
        Assert.Equal("block,head", Names(1));
        Assert.Equal("block,block.conv,block.act,head", Names(2));
        Assert.Contains("| eval", ModelSummaryTable.Format(net));
        Assert.Throws<ArgumentOutOfRangeException>(() => ModelSummaryTable.Format(net, 0));
    }

    [Fact]
    public void FrozenParametersAreNonTrainable()
    {
        using var net = SmallNet();
        var fc1Weight = net.named_parameters().Single(p => p.name == "fc1.weight").parameter;
        fc1Weight.requires_grad = false;
        var lines = Lines(ModelSummaryTable.Format(net));

        Assert.Contains(lines, l => Regex.IsMatch(l, @"^11\s+Trainable params$"));
        Assert.Contains(lines, l => Regex.IsMatch(l, @"^12\s+Non-trainable params$"));
        Assert.Contains(lines, l => Regex.IsMatch(l, @"^23\s+Total params$"));
    }

    [Fact]
    public void ModuleWithoutChildrenHasNoRows()
    {
        using var linear = torch.nn.Linear(2, 2);
        var lines = Lines(ModelSummaryTable.Format(linear));
        Assert.DoesNotContain(lines, l => Regex.IsMatch(l, @"^\d+ \|"));
        Assert.Contains(lines, l => Regex.IsMatch(l, @"^6\s+Total params$"));
    }
}

public sealed class ExampleNet : torch.nn.Module<Tensor, Tensor>, IExampleInput
{
    private readonly TorchSharp.Modules.Linear fc1 = torch.nn.Linear(4, 3);
    private readonly TorchSharp.Modules.Linear fc2 = torch.nn.Linear(3, 2);

    public ExampleNet() : base(nameof(ExampleNet)) => RegisterComponents();

    public Tensor ExampleInputArray => torch.zeros(5, 4);

    // TorchSharp runs forward hooks only through call(), so the summary sees layers invoked that way.
    public override Tensor forward(Tensor x) => fc2.call(torch.nn.functional.relu(fc1.call(x)));
}

public sealed class ModelSummarySizesTests
{
    [Fact]
    public void AnExampleInputGivesInAndOutSizes()
    {
        using var net = new ExampleNet();
        var text = ModelSummaryTable.Format(net);
        var rows = text.Split('\n').Where(l => Regex.IsMatch(l, @"^\d+ \|")).Select(l => l.Split('|').Select(c => c.Trim()).ToArray()).ToArray();
        Assert.Equal(new[] { "0", "fc1", "Linear", "15", "train", "[5, 4]", "[5, 3]" }, rows[0]);
        Assert.Equal(new[] { "1", "fc2", "Linear", "8", "train", "[5, 3]", "[5, 2]" }, rows[1]);
        Assert.Contains("In sizes", text);
        Assert.True(net.training);   // the mode is restored
    }
}
