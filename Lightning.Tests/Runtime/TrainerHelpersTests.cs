using System;
using System.Collections;
using System.Collections.Generic;
using System.Linq;
using Xunit;

namespace Lightning.Tests.Runtime;

public sealed class TrainerHelpersTests
{
    private static List<KeyValuePair<string, double>> Metrics(params (string Name, double Value)[] values) =>
        values.Select(v => new KeyValuePair<string, double>(v.Name, v.Value)).ToList();

    [Fact]
    public void EpochLinePutsEachValidationMetricAfterItsTrainingMetric()
    {
        var line = Trainer.EpochLine(1, "5",
            Metrics(("loss", 0.6184), ("acc", 0.8309), ("val_loss", 0.20638), ("val_acc", 0.94002)), TimeSpan.FromSeconds(2));
        Assert.StartsWith("Epoch 1/5 loss 0.61840 val_loss 0.20638 acc 0.83090 val_acc 0.94002", line);
        Assert.Equal("Epoch 1/5 loss 0.61840 val_loss 0.20638 acc 0.83090 val_acc 0.94002 time 2.0s", line);
    }

    [Fact]
    public void EpochLineShowsAStepAndEpochMetricOnceByItsEpochValue()
    {
        var line = Trainer.EpochLine(1, "1",
            Metrics(("loss", 0.5), ("loss_epoch", 0.5), ("loss_step", 0.25), ("val_loss", 0.75), ("lr_step", 0.1)), TimeSpan.Zero);
        Assert.Equal("Epoch 1/1 loss 0.50000 val_loss 0.75000 lr_step 0.10000 time 0.0s", line);
    }

    [Fact]
    public void EpochLinePairsTrainPrefixedMetrics()
    {
        var line = Trainer.EpochLine(3, "?",
            Metrics(("train_loss", 0.5), ("train_acc", 0.75), ("val_acc", 0.8), ("val_loss", 0.25)), TimeSpan.Zero);
        Assert.StartsWith("Epoch 3/? train_loss 0.50000 val_loss 0.25000 train_acc 0.75000 val_acc 0.80000 time", line);
    }

    [Fact]
    public void EpochLineKeepsUnpairedMetricsOnce()
    {
        var line = Trainer.EpochLine(2, "2",
            Metrics(("val_f1", 0.125), ("loss", 1.0), ("lr", 0.001), ("val_loss", 0.5)), TimeSpan.Zero);
        Assert.StartsWith("Epoch 2/2 loss 1.00000 val_loss 0.50000 lr 0.00100 val_f1 0.12500 time", line);
        Assert.Single(System.Text.RegularExpressions.Regex.Matches(line, "val_loss"));
    }

    [Fact]
    public void EpochLineWithOnlyValidationMetrics()
    {
        var line = Trainer.EpochLine(1, "1", Metrics(("val_loss", 0.5)), TimeSpan.Zero);
        Assert.StartsWith("Epoch 1/1 val_loss 0.50000 time", line);
    }

    [Fact]
    public void EpochLineWithNoMetrics()
    {
        Assert.Equal("Epoch 4/9 time 0.0s", Trainer.EpochLine(4, "9", Metrics(), TimeSpan.Zero));
    }

    [Fact]
    public void CountOfList() => Assert.Equal(3L, Trainer.CountOf(new List<int> { 1, 2, 3 }));

    [Fact]
    public void CountOfArray() => Assert.Equal(4L, Trainer.CountOf(new[] { "a", "b", "c", "d" }));

    [Fact]
    public void CountOfReadOnlyCollection() => Assert.Equal(7L, Trainer.CountOf(new ReadOnlyBatches(7)));

    [Fact]
    public void CountOfLazyEnumerableIsUnknown()
    {
        var lazy = new Lazy(5);
        Assert.Null(Trainer.CountOf(lazy.Items()));
        Assert.Equal(0, lazy.Enumerated);   // asking for the count must not run the iterator
    }

    [Fact]
    public void CountOfEmptyList() => Assert.Equal(0L, Trainer.CountOf(new List<int>()));

    /// <summary>A collection that is only an IReadOnlyCollection (not an ICollection).</summary>
    private sealed class ReadOnlyBatches(int count) : IReadOnlyCollection<int>
    {
        public int Count => count;
        public IEnumerator<int> GetEnumerator() => Enumerable.Range(0, count).GetEnumerator();
        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
    }

    private sealed class Lazy(int count)
    {
        public int Enumerated { get; private set; }

        public IEnumerable<int> Items()
        {
            for (int i = 0; i < count; i++)
            {
                Enumerated++;
                yield return i;
            }
        }
    }
}
