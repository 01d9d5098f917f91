using System;
using System.IO;
using System.Linq;
using Lightning.Data;
using Lightning.Datasets;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Lightning.Tests.Data;

/// <summary>Runs the data module on a tiny fake dataset: 30 training and 10 test images of 28x28.</summary>
public sealed class FashionMnistDataModuleTests : IDisposable
{
    private const int TrainCount = 30;
    private const int TestCount = 10;
    private readonly string _dir = IdxTestFiles.NewTempDir();

    public FashionMnistDataModuleTests()
    {
        WriteSet("train", TrainCount, firstImage: 0);
        WriteSet("t10k", TestCount, firstImage: TrainCount);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>Image i has every pixel equal to 8 * (i % 32) and label i % 10, so pixels identify the label.</summary>
    private void WriteSet(string prefix, int count, int firstImage)
    {
        var pixels = new byte[count * 28 * 28];
        var labels = new byte[count];
        for (int i = 0; i < count; i++)
        {
            int image = firstImage + i;
            pixels.AsSpan(i * 784, 784).Fill((byte)(8 * (image % 32)));
            labels[i] = (byte)(image % 10);
        }
        IdxTestFiles.Write(Path.Combine(_dir, $"{prefix}-images-idx3-ubyte.gz"), IdxTestFiles.Encode(0x08, [count, 28, 28], pixels), gzip: true);
        IdxTestFiles.Write(Path.Combine(_dir, $"{prefix}-labels-idx1-ubyte.gz"), IdxTestFiles.Encode(0x08, [count], labels), gzip: true);
    }

    /// <summary>Undoes the normalization: the raw byte value of each image's first pixel.</summary>
    private static long[] RawFirstPixels(Tensor x)
    {
        using var scope = torch.NewDisposeScope();
        var raw = (x[.., 0, 0, 0] * FashionMnistDataModule.Std + FashionMnistDataModule.Mean) * 255;
        float[] values = raw.data<float>().ToArray();
        Assert.All(values, v => Assert.True(Math.Abs(v - MathF.Round(v)) < 1e-3, $"pixel {v} is not a whole byte value"));
        return values.Select(v => (long)MathF.Round(v)).ToArray();
    }

    [Fact]
    public void FitSplitsTheTrainingImagesWithNormalizedFloatImagesAndInt64Labels()
    {
        var dm = new FashionMnistDataModule(batchSize: 8, dataDir: _dir, validationSize: 5, seed: 3);
        dm.PrepareData();
        dm.Setup(Stage.Fit);
        try
        {
            var (trainX, trainY) = dm.Train!.Value;
            var (valX, valY) = dm.Validation!.Value;
            Assert.Equal(new long[] { 25, 1, 28, 28 }, trainX.shape);
            Assert.Equal(new long[] { 5, 1, 28, 28 }, valX.shape);
            Assert.Equal(new long[] { 25 }, trainY.shape);
            Assert.Equal(new long[] { 5 }, valY.shape);
            Assert.Equal(ScalarType.Float32, trainX.dtype);
            Assert.Equal(ScalarType.Int64, trainY.dtype);

            // Every pixel of an image is the same; undoing (p / 255 - mean) / std gives back the byte.
            using (var spread = trainX.amax([1, 2, 3]) - trainX.amin([1, 2, 3]))
            {
                Assert.True(spread.max().item<float>() < 1e-6);
            }
            long[] raw = RawFirstPixels(trainX).Concat(RawFirstPixels(valX)).ToArray();
            long[] labels = trainY.data<long>().ToArray().Concat(valY.data<long>().ToArray()).ToArray();

            // Train and validation together hold each training image exactly once, still paired with its label.
            Assert.Equal(Enumerable.Range(0, TrainCount).Select(i => 8L * i), raw.Order());
            Assert.All(raw.Zip(labels), p => Assert.Equal(p.First / 8 % 10, p.Second));

            // The split is a shuffle, not the first 25 images.
            Assert.NotEqual(Enumerable.Range(0, 25).Select(i => 8L * i), raw.Take(25));
        }
        finally
        {
            dm.Teardown(Stage.Fit);
        }
    }

    [Fact]
    public void SplitDependsOnlyOnTheSeed()
    {
        long[] ValidationImages(long seed)
        {
            var dm = new FashionMnistDataModule(dataDir: _dir, validationSize: 6, seed: seed);
            dm.Setup(Stage.Validate);
            try
            {
                return RawFirstPixels(dm.Validation!.Value.X);
            }
            finally
            {
                dm.Teardown(Stage.Validate);
            }
        }

        Assert.Equal(ValidationImages(11), ValidationImages(11));
        Assert.NotEqual(ValidationImages(11), ValidationImages(12));
    }

    [Fact]
    public void LoadersBatchTheSplitsAndTheTestSet()
    {
        var dm = new FashionMnistDataModule(batchSize: 8, dataDir: _dir, validationSize: 5);
        dm.Setup(Stage.Fit);
        dm.Setup(Stage.Test);
        try
        {
            var train = Assert.IsType<TensorDataLoader>(dm.TrainDataLoader());
            var val = Assert.IsType<TensorDataLoader>(dm.ValDataLoader());
            var test = Assert.IsType<TensorDataLoader>(dm.TestDataLoader());
            var predict = Assert.IsType<TensorDataLoader>(dm.PredictDataLoader());

            Assert.True(train.Shuffle);
            Assert.False(val.Shuffle);
            Assert.False(test.Shuffle);
            Assert.Equal(4, train.Count);
            Assert.Equal((1, 5L), (val.Count, val.SampleCount));
            Assert.Equal(2, test.Count);
            Assert.Equal(TestCount, predict.SampleCount);
            Assert.Same(train, dm.TrainDataLoader());

            Assert.Equal(new long[] { 10, 1, 28, 28 }, dm.Test!.Value.X.shape);
            long[] testRaw = RawFirstPixels(dm.Test!.Value.X);
            Assert.Equal(Enumerable.Range(TrainCount, TestCount).Select(i => 8L * (i % 32)), testRaw);
            Assert.Equal(Enumerable.Range(TrainCount, TestCount).Select(i => (long)(i % 10)), dm.Test!.Value.Y.data<long>().ToArray());

            int batches = 0;
            foreach (var (x, y) in train)
            {
                using (x)
                using (y)
                {
                    Assert.Equal(new long[] { 1, 28, 28 }, x.shape.Skip(1));
                    Assert.Equal(x.shape[0], y.shape[0]);
                    batches++;
                }
            }
            Assert.Equal(4, batches);
        }
        finally
        {
            dm.Teardown(Stage.Fit);
            dm.Teardown(Stage.Test);
        }
    }

    [Fact]
    public void TensorsSurviveCallerScopesAreLoadedOnceAndFreedByTeardown()
    {
        var dm = new FashionMnistDataModule(dataDir: _dir, validationSize: 5);
        using (torch.NewDisposeScope())
        {
            dm.Setup(Stage.Fit);
            dm.Setup(Stage.Predict);
        }
        var train = dm.Train!.Value;
        var test = dm.Test!.Value;
        Assert.False(train.X.IsInvalid);
        Assert.False(test.X.IsInvalid);

        dm.Setup(Stage.Validate);
        dm.Setup(Stage.Test);
        Assert.Same(train.X, dm.Train!.Value.X);
        Assert.Same(test.X, dm.Test!.Value.X);

        dm.Teardown(Stage.Fit);
        Assert.True(train.X.IsInvalid);
        Assert.True(train.Y.IsInvalid);
        Assert.Null(dm.Train);
        Assert.Null(dm.Validation);
        Assert.False(test.X.IsInvalid);

        dm.Teardown(Stage.Test);
        Assert.True(test.X.IsInvalid);
        Assert.Null(dm.Test);
    }

    [Fact]
    public void NoValidationSetWhenValidationSizeIsZero()
    {
        var dm = new FashionMnistDataModule(dataDir: _dir, validationSize: 0);
        dm.Setup(Stage.Fit);
        try
        {
            Assert.Equal(TrainCount, dm.Train!.Value.X.shape[0]);
            Assert.Null(dm.ValDataLoader());
        }
        finally
        {
            dm.Teardown(Stage.Fit);
        }
    }

    [Fact]
    public void ValidationSizeMustLeaveTrainingImages()
    {
        var dm = new FashionMnistDataModule(dataDir: _dir, validationSize: TrainCount);
        var e = Assert.Throws<LightningException>(() => dm.Setup(Stage.Fit));
        Assert.Contains("validationSize", e.Message);
        Assert.Null(dm.Train);
    }

    [Fact]
    public void LoadersBeforeSetupNameTheMissingCall()
    {
        var dm = new FashionMnistDataModule(dataDir: _dir);
        var e = Assert.Throws<LightningException>(() => dm.TrainDataLoader());
        Assert.Contains("Setup(Stage.Fit)", e.Message);
    }

    [Fact]
    public void MissingFilesNameThePathsAndTheInstallCommand()
    {
        string empty = Path.Combine(_dir, "empty");
        Directory.CreateDirectory(empty);
        File.Copy(Path.Combine(_dir, "train-labels-idx1-ubyte.gz"), Path.Combine(empty, "train-labels-idx1-ubyte.gz"));
        var dm = new FashionMnistDataModule(dataDir: empty);

        var e = Assert.Throws<LightningException>(dm.PrepareData);
        Assert.Contains(Path.Combine(empty, "train-images-idx3-ubyte.gz"), e.Message);
        Assert.Contains(Path.Combine(empty, "t10k-images-idx3-ubyte.gz"), e.Message);
        Assert.Contains(Path.Combine(empty, "t10k-labels-idx1-ubyte.gz"), e.Message);
        Assert.DoesNotContain(Path.Combine(empty, "train-labels-idx1-ubyte.gz"), e.Message);
        Assert.Contains("sudo apt-get install -y dataset-fashion-mnist", e.Message);
        Assert.Contains("dataDir", e.Message);
    }

    [Fact]
    public void DefaultsAndConstants()
    {
        var dm = new FashionMnistDataModule();
        Assert.Equal("/usr/share/datasets/fashion-mnist", dm.DataDir);
        Assert.Equal(64, dm.BatchSize);
        Assert.Equal(5000, dm.ValidationSize);
        Assert.Equal(42, dm.Seed);
        Assert.Equal(0.2860406, FashionMnistDataModule.Mean);
        Assert.Equal(0.3530242, FashionMnistDataModule.Std);
        Assert.Equal(10, FashionMnistDataModule.ClassNames.Length);
        Assert.Equal("T-shirt/top", FashionMnistDataModule.ClassNames[0]);
        Assert.Equal("Ankle boot", FashionMnistDataModule.ClassNames[9]);
        Assert.Throws<ArgumentOutOfRangeException>(() => new FashionMnistDataModule(batchSize: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new FashionMnistDataModule(validationSize: -1));
    }
}
