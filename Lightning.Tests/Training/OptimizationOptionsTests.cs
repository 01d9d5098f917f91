using System.Collections.Generic;
using System.IO;
using System.Linq;
using Xunit;
using static TorchSharp.torch;

namespace Lightning.Tests.Training;

/// <summary>AccumulateGradBatches and GradientClipVal, checked against exact expectations.</summary>
[Collection("Training")]
public class OptimizationOptionsTests
{
    private static TrainerOptions Quiet(TrainerOptions options) => options with { Output = TextWriter.Null, Threads = 1, NumSanityValSteps = 0 };

    private static Dictionary<string, float[]> Weights(nn.Module<Tensor, Tensor> model) =>
        model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.data<float>().ToArray());

    /// <summary>Batches of <paramref name="size"/> cut, in order, from one fixed set of 128 samples.</summary>
    private static List<(Tensor X, Tensor Y)> Batches(int size)
    {
        var (x, y) = SyntheticData.Blobs(128, seed: 8);
        return Enumerable.Range(0, 128 / size)
            .Select(i => (x.narrow(0, i * size, size).clone().DetachFromDisposeScope(), y.narrow(0, i * size, size).clone().DetachFromDisposeScope()))
            .ToList();
    }

    [Fact]
    public void AccumulatingKBatchesStepsLikeOneBatchKTimesLarger()
    {
        Seed.Everything(6);
        var accumulated = new TinyClassifier { Optimizer = "sgd", LearningRate = 0.1 };
        var trainer = new Trainer(Quiet(new TrainerOptions { MaxEpochs = 2, AccumulateGradBatches = 4 }));
        trainer.Fit(accumulated, Batches(16));

        Seed.Everything(6);
        var large = new TinyClassifier { Optimizer = "sgd", LearningRate = 0.1 };
        new Trainer(Quiet(new TrainerOptions { MaxEpochs = 2 })).Fit(large, Batches(64));

        Assert.Equal(2 * 2, trainer.GlobalStep);   // 8 batches per epoch, one step per 4
        var expected = Weights(large);
        foreach (var (key, values) in Weights(accumulated))
            for (int i = 0; i < values.Length; i++) Assert.Equal(expected[key][i], values[i], 1e-6f);
    }

    [Fact]
    public void TheLastBatchesOfAnEpochStepEvenWhenFewerThanK()
    {
        var trainer = new Trainer(Quiet(new TrainerOptions { MaxEpochs = 1, AccumulateGradBatches = 3 }));
        trainer.Fit(new TinyClassifier(), Batches(16));          // 8 batches: steps after 3, 6 and the last 2
        Assert.Equal(3, trainer.GlobalStep);
    }

    [Theory]
    [InlineData(GradientClipAlgorithm.Norm)]
    [InlineData(GradientClipAlgorithm.Value)]
    public void ClippingBoundsTheUpdate(GradientClipAlgorithm algorithm)
    {
        // One SGD step with lr 1 moves the weights by exactly the (clipped) gradient.
        var (unclipped, _) = OneStep(null, algorithm);
        var (clipped, _) = OneStep(0.05, algorithm);
        if (algorithm == GradientClipAlgorithm.Norm)
        {
            Assert.True(Norm(unclipped) > 0.05 * 2, $"the test needs a gradient larger than the bound (norm {Norm(unclipped)})");
            Assert.Equal(0.05, Norm(clipped), 4);
        }
        else
        {
            Assert.True(unclipped.Max(v => System.Math.Abs(v)) > 0.05);
            Assert.True(clipped.Max(v => System.Math.Abs(v)) <= 0.05 + 1e-7);
        }
    }

    private static (float[] Update, TinyClassifier Model) OneStep(double? clip, GradientClipAlgorithm algorithm)
    {
        Seed.Everything(12);
        var model = new TinyClassifier { Optimizer = "sgd", LearningRate = 1.0 };
        ((ILightningModule)model).RegisterComponentsOnce();
        var before = model.parameters().SelectMany(p => p.data<float>().ToArray()).ToArray();
        new Trainer(Quiet(new TrainerOptions { MaxSteps = 1, GradientClipVal = clip, GradientClipAlgorithm = algorithm }))
            .Fit(model, Batches(32).Select(b => (b.X * 20, b.Y)).ToList());
        var after = model.parameters().SelectMany(p => p.data<float>().ToArray()).ToArray();
        return (after.Zip(before, (a, b) => a - b).ToArray(), model);
    }

    private static double Norm(float[] v) => System.Math.Sqrt(v.Sum(x => (double)x * x));

    [Fact]
    public void ManualOptimizationWithClippingIsAClearError()
    {
        var trainer = new Trainer(Quiet(new TrainerOptions { MaxEpochs = 1, GradientClipVal = 1.0 }));
        var e = Assert.Throws<LightningException>(() => trainer.Fit(new ManualClassifier(), Batches(32)));
        Assert.Contains("manual optimization", e.Message);
        Assert.Contains("GradientClipVal", e.Message);
    }

    [Fact]
    public void BadOptionValuesNameTheOption()
    {
        Assert.Contains("AccumulateGradBatches", Assert.Throws<OptionException>(() => new Trainer(new TrainerOptions { AccumulateGradBatches = 0 })).Message);
        Assert.Contains("GradientClipVal", Assert.Throws<OptionException>(() => new Trainer(new TrainerOptions { GradientClipVal = -1 })).Message);
        Assert.Contains("GradientClipAlgorithm", Assert.Throws<OptionException>(() => new Trainer(new TrainerOptions { GradientClipAlgorithm = (GradientClipAlgorithm)7 })).Message);
    }
}
