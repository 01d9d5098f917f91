using System;
using Lightning.Metrics;
using Xunit;
using static TorchSharp.torch;

namespace Lightning.Tests.Metrics;

/// <summary>Each metric against values computed by hand (in the comments).</summary>
public sealed class MetricTests
{
    // Multiclass, 3 classes. Targets 0 0 1 1 2 2, predictions 0 1 1 1 0 2:
    // confusion (rows targets) [[1,1,0],[0,2,0],[1,0,1]]; tp 1 2 1, fp 1 1 0, fn 1 0 1.
    private static Tensor Targets => tensor(new long[] { 0, 0, 1, 1, 2, 2 });
    private static Tensor Classes => tensor(new long[] { 0, 1, 1, 1, 0, 2 });

    /// <summary>Scores whose argmax is <see cref="Classes"/>.</summary>
    private static Tensor Scores => nn.functional.one_hot(Classes, 3).to_type(ScalarType.Float32) * 2 + 0.1f;

    private static double Value(Metric metric, Tensor preds, Tensor target)
    {
        metric.Update(preds, target);
        return metric.ComputeValue();
    }

    [Fact]
    public void ConfusionMatrixCountsTargetsByPrediction()
    {
        using var cm = new ConfusionMatrix(ClassificationTask.Multiclass, 3);
        cm.Update(Scores, Targets);
        Assert.Equal(new long[] { 1, 1, 0, 0, 2, 0, 1, 0, 1 }, cm.Compute().data<long>().ToArray());
    }

    [Fact]
    public void MulticlassValuesMatchTheHandComputedOnes()
    {
        Assert.Equal(4.0 / 6, Value(new Accuracy(ClassificationTask.Multiclass, 3), Scores, Targets), 12);
        Assert.Equal(4.0 / 6, Value(new Accuracy(ClassificationTask.Multiclass, 3), Classes, Targets), 12);   // class indices too
        // precision per class 1/2, 2/3, 1: macro 0.72222; micro = accuracy.
        Assert.Equal((0.5 + 2.0 / 3 + 1) / 3, Value(new Precision(ClassificationTask.Multiclass, 3), Scores, Targets), 12);
        Assert.Equal(4.0 / 6, Value(new Precision(ClassificationTask.Multiclass, 3, Average.Micro), Scores, Targets), 12);
        // recall per class 1/2, 1, 1/2: macro 2/3.
        Assert.Equal(2.0 / 3, Value(new Recall(ClassificationTask.Multiclass, 3), Scores, Targets), 12);
        // F1 per class 2tp/(2tp+fp+fn): 2/4, 4/5, 2/3.
        Assert.Equal((0.5 + 0.8 + 2.0 / 3) / 3, Value(new F1Score(ClassificationTask.Multiclass, 3), Scores, Targets), 12);
        Assert.Equal(2.0 / 3, Value(new BalancedAccuracy(ClassificationTask.Multiclass, 3), Scores, Targets), 12);
    }

    [Fact]
    public void WeightedAverageWeighsBySupport()
    {
        // Targets 0 0 0 1, predictions 0 0 1 1: precision 1 and 1/2 with supports 3 and 1 -> (3 + 0.5) / 4.
        var t = tensor(new long[] { 0, 0, 0, 1 });
        var p = tensor(new long[] { 0, 0, 1, 1 });
        Assert.Equal(0.875, Value(new Precision(ClassificationTask.Multiclass, 2, Average.Weighted), p, t), 12);
        Assert.Equal(0.75, Value(new Recall(ClassificationTask.Multiclass, 2, Average.Weighted), p, t), 12);
        // Balanced accuracy: recalls 2/3 and 1.
        Assert.Equal((2.0 / 3 + 1) / 2, Value(new BalancedAccuracy(ClassificationTask.Multiclass, 2), p, t), 12);
    }

    [Fact]
    public void BinaryFromProbabilitiesOrLogits()
    {
        // Probabilities 0.9 0.2 0.6 0.4 at 0.5 -> 1 0 1 0 against 1 0 0 1: tp 1, fp 1, fn 1, tn 1.
        var target = tensor(new long[] { 1, 0, 0, 1 });
        var probs = tensor(new float[] { 0.9f, 0.2f, 0.6f, 0.4f });
        var logits = tensor(new float[] { 2.0f, -1.0f, 0.3f, -0.2f });
        foreach (var preds in new[] { probs, logits })
        {
            Assert.Equal(0.5, Value(new Accuracy(ClassificationTask.Binary), preds, target), 12);
            Assert.Equal(0.5, Value(new Precision(ClassificationTask.Binary), preds, target), 12);
            Assert.Equal(0.5, Value(new Recall(ClassificationTask.Binary), preds, target), 12);
            Assert.Equal(0.5, Value(new F1Score(ClassificationTask.Binary), preds, target), 12);
            Assert.Equal(0.5, Value(new BalancedAccuracy(ClassificationTask.Binary), preds, target), 12);
        }
        // A threshold of 0.3 makes 0.4 positive: 1 0 1 1 -> tp 2, fp 1, fn 0.
        Assert.Equal(2.0 / 3, Value(new Precision(ClassificationTask.Binary, threshold: 0.3), probs, target), 12);
        Assert.Equal(1.0, Value(new Recall(ClassificationTask.Binary, threshold: 0.3), probs, target), 12);
    }

    [Fact]
    public void TopKAccuracyCountsATargetAmongTheKBestScores()
    {
        var scores = tensor(new float[] { 0.1f, 0.5f, 0.4f, 0.8f, 0.15f, 0.05f, 0.35f, 0.25f, 0.4f }).reshape(3, 3);
        var target = tensor(new long[] { 2, 1, 1 });   // in the top 2: yes, yes, no
        Assert.Equal(2.0 / 3, Value(new Accuracy(ClassificationTask.Multiclass, 3, topK: 2), scores, target), 12);
        Assert.Equal(0.0, Value(new Accuracy(ClassificationTask.Multiclass, 3), scores, target), 12);   // argmax 1 0 2
    }

    [Fact]
    public void RegressionErrors()
    {
        var preds = tensor(new float[] { 1, 2, 3 });
        var target = tensor(new float[] { 1, 1, 1 });
        Assert.Equal(5.0 / 3, Value(new MeanSquaredError(), preds, target), 12);
        Assert.Equal(1.0, Value(new MeanAbsoluteError(), preds, target), 12);
    }

    [Fact]
    public void AccumulatingBatchesEqualsOneBatchAndResetStartsOver()
    {
        using var whole = new F1Score(ClassificationTask.Multiclass, 3);
        whole.Update(Scores, Targets);
        using var parts = new F1Score(ClassificationTask.Multiclass, 3);
        using (NewDisposeScope())   // the state survives the batches' scopes, as in the trainer
        {
            parts.Update(Scores[..2], Targets[..2]);
        }
        using (NewDisposeScope())
        {
            parts.Update(Scores[2..], Targets[2..]);
        }
        Assert.Equal(whole.ComputeValue(), parts.ComputeValue(), 12);

        using var mse = new MeanSquaredError();
        mse.Update(tensor(new float[] { 3 }), tensor(new float[] { 1 }));
        mse.Reset();
        mse.Update(tensor(new float[] { 2 }), tensor(new float[] { 1 }));
        Assert.Equal(1.0, mse.ComputeValue(), 12);
    }

    [Fact]
    public void BadInputsAreClearErrors()
    {
        using var acc = new Accuracy(ClassificationTask.Multiclass, 3);
        var e = Assert.Throws<LightningException>(() => acc.Update(ones(4, 5), zeros(4, ScalarType.Int64)));
        Assert.Contains("Accuracy: predictions have 5 class scores but numClasses is 3", e.Message);
        e = Assert.Throws<LightningException>(() => acc.Update(ones(4), zeros(3, ScalarType.Int64)));
        Assert.Contains("preds [4], target [3]", e.Message);

        acc.Update(tensor(new long[] { 0, 1 }), tensor(new long[] { 0, 7 }));   // no host read here
        e = Assert.Throws<LightningException>(() => acc.Compute());
        Assert.Contains("1 target(s) or predicted class(es) were outside 0..2", e.Message);

        var m = Assert.Throws<LightningException>(() => new MeanSquaredError().Update(ones(3), ones(2)));
        Assert.Contains("MeanSquaredError: predictions and targets must have the same shape", m.Message);
        Assert.Throws<LightningException>(() => new Accuracy(ClassificationTask.Binary, topK: 2));
    }
}
