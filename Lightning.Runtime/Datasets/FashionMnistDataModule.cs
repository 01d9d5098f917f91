using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Lightning.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace Lightning.Datasets;

/// <summary>
/// Fashion-MNIST (60,000 training and 10,000 test grayscale 28x28 images of 10 clothing classes) from the four
/// IDX gz files of Debian's <c>dataset-fashion-mnist</c> package. Images are float32 tensors of shape
/// (N, 1, 28, 28), scaled to [0, 1] and normalized with <see cref="Mean"/> and <see cref="Std"/>; labels are int64.
/// <see cref="Stage.Fit"/> and <see cref="Stage.Validate"/> split the training images into a train and a
/// validation set with a permutation seeded by <c>seed</c>; <see cref="Stage.Test"/> and
/// <see cref="Stage.Predict"/> use the test images.
/// </summary>
/// <remarks>
/// The data module owns the tensors it loads: they are detached from callers' dispose scopes, and
/// <see cref="Teardown"/> frees them. Each file is read once, however many stages <see cref="Setup"/> is
/// called for.
/// </remarks>
public sealed class FashionMnistDataModule : LightningDataModule<(Tensor X, Tensor Y)>
{
    /// <summary>Where Debian's <c>dataset-fashion-mnist</c> package installs the files.</summary>
    public const string DefaultDataDir = "/usr/share/datasets/fashion-mnist";

    /// <summary>The command that installs the dataset on Debian.</summary>
    public const string InstallCommand = "sudo apt-get install -y dataset-fashion-mnist";

    /// <summary>The mean pixel value of the training images, scaled to [0, 1].</summary>
    public const double Mean = 0.2860406;

    /// <summary>The standard deviation of the training pixels, scaled to [0, 1].</summary>
    public const double Std = 0.3530242;

    /// <summary>The training images file name.</summary>
    public const string TrainImagesFile = "train-images-idx3-ubyte.gz";

    /// <summary>The training labels file name.</summary>
    public const string TrainLabelsFile = "train-labels-idx1-ubyte.gz";

    /// <summary>The test images file name.</summary>
    public const string TestImagesFile = "t10k-images-idx3-ubyte.gz";

    /// <summary>The test labels file name.</summary>
    public const string TestLabelsFile = "t10k-labels-idx1-ubyte.gz";

    /// <summary>The class names, indexed by label.</summary>
    public static readonly string[] ClassNames =
    [
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
    ];

    private (Tensor X, Tensor Y)? _train;
    private (Tensor X, Tensor Y)? _validation;
    private (Tensor X, Tensor Y)? _test;
    private TensorDataLoader? _trainLoader;

    /// <summary>Creates the data module; nothing is read until <see cref="Setup"/>.</summary>
    /// <param name="batchSize">Samples per batch, for every loader.</param>
    /// <param name="dataDir">The directory holding the four files; null for <see cref="DefaultDataDir"/>.</param>
    /// <param name="validationSize">How many training images to hold out for validation (0 for no validation).</param>
    /// <param name="seed">Seeds the train/validation split and the shuffling of the training batches.</param>
    public FashionMnistDataModule(int batchSize = 64, string? dataDir = null, int validationSize = 5000, long seed = 42)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        ArgumentOutOfRangeException.ThrowIfNegative(validationSize);
        BatchSize = batchSize;
        DataDir = dataDir ?? DefaultDataDir;
        ValidationSize = validationSize;
        Seed = seed;
    }

    /// <summary>Samples per batch.</summary>
    public int BatchSize { get; }

    /// <summary>The directory holding the four IDX gz files.</summary>
    public string DataDir { get; }

    /// <summary>How many training images are held out for validation.</summary>
    public int ValidationSize { get; }

    /// <summary>Seeds the train/validation split and the shuffling of the training batches.</summary>
    public long Seed { get; }

    /// <summary>The training split after <c>Setup(Stage.Fit)</c> or <c>Setup(Stage.Validate)</c>; owned by this module.</summary>
    public (Tensor X, Tensor Y)? Train => _train;

    /// <summary>The validation split after <c>Setup(Stage.Fit)</c> or <c>Setup(Stage.Validate)</c>; owned by this module.</summary>
    public (Tensor X, Tensor Y)? Validation => _validation;

    /// <summary>The test set after <c>Setup(Stage.Test)</c> or <c>Setup(Stage.Predict)</c>; owned by this module.</summary>
    public (Tensor X, Tensor Y)? Test => _test;

    /// <summary>The four file paths: train images, train labels, test images, test labels.</summary>
    public IReadOnlyList<string> FilePaths =>
        [FilePath(TrainImagesFile), FilePath(TrainLabelsFile), FilePath(TestImagesFile), FilePath(TestLabelsFile)];

    /// <summary>Checks the four files exist.</summary>
    /// <exception cref="LightningException">Some are missing: names them and the install command.</exception>
    public override void PrepareData()
    {
        var missing = FilePaths.Where(p => !File.Exists(p)).ToList();
        if (missing.Count > 0)
        {
            throw new LightningException(
                $"Fashion-MNIST files are missing: {string.Join(", ", missing)}. " +
                $"Install them with `{InstallCommand}`, or pass dataDir to point at a directory holding " +
                $"{TrainImagesFile}, {TrainLabelsFile}, {TestImagesFile} and {TestLabelsFile}.");
        }
    }

    /// <summary>Loads (once) the data <paramref name="stage"/> needs.</summary>
    /// <exception cref="LightningException">A file is missing or malformed, or <see cref="ValidationSize"/> leaves no training images.</exception>
    public override void Setup(Stage stage)
    {
        switch (stage)
        {
            case Stage.Fit:
            case Stage.Validate:
                if (_train is null)
                {
                    LoadTrainingSplit();
                }
                break;
            case Stage.Test:
            case Stage.Predict:
                _test ??= Load(TestImagesFile, TestLabelsFile);
                break;
        }
    }

    /// <summary>The training batches, shuffled each epoch (seeded from <see cref="Seed"/>); the same loader on every call.</summary>
    public override IEnumerable<(Tensor X, Tensor Y)> TrainDataLoader()
    {
        var (x, y) = _train ?? throw NotSetUp(nameof(TrainDataLoader), Stage.Fit);
        return _trainLoader ??= new TensorDataLoader(x, y, BatchSize, shuffle: true, seed: Seed);
    }

    /// <summary>The validation batches in order, or null when <see cref="ValidationSize"/> is 0.</summary>
    public override IEnumerable<(Tensor X, Tensor Y)>? ValDataLoader()
    {
        if (_train is null)
        {
            throw NotSetUp(nameof(ValDataLoader), Stage.Fit);
        }
        return _validation is var (x, y) ? new TensorDataLoader(x, y, BatchSize) : null;
    }

    /// <summary>The test batches in order.</summary>
    public override IEnumerable<(Tensor X, Tensor Y)> TestDataLoader()
    {
        var (x, y) = _test ?? throw NotSetUp(nameof(TestDataLoader), Stage.Test);
        return new TensorDataLoader(x, y, BatchSize);
    }

    /// <summary>The test images (with their labels) in order.</summary>
    public override IEnumerable<(Tensor X, Tensor Y)> PredictDataLoader()
    {
        var (x, y) = _test ?? throw NotSetUp(nameof(PredictDataLoader), Stage.Predict);
        return new TensorDataLoader(x, y, BatchSize);
    }

    /// <summary>
    /// Frees the tensors of <paramref name="stage"/>: the train and validation splits for <see cref="Stage.Fit"/>
    /// and <see cref="Stage.Validate"/>, the test set for <see cref="Stage.Test"/> and <see cref="Stage.Predict"/>.
    /// Loaders handed out before must not be used afterwards.
    /// </summary>
    public override void Teardown(Stage stage)
    {
        switch (stage)
        {
            case Stage.Fit:
            case Stage.Validate:
                Free(ref _train);
                Free(ref _validation);
                _trainLoader = null;
                break;
            case Stage.Test:
            case Stage.Predict:
                Free(ref _test);
                break;
        }
    }

    private string FilePath(string fileName) => Path.Combine(DataDir, fileName);

    /// <summary>Loads the training files and splits them with a permutation seeded by <see cref="Seed"/>.</summary>
    private void LoadTrainingSplit()
    {
        var (x, y) = Load(TrainImagesFile, TrainLabelsFile);
        try
        {
            long total = x.shape[0];
            if (ValidationSize >= total)
            {
                throw new LightningException(
                    $"validationSize ({ValidationSize}) must be smaller than the {total} training images in '{FilePath(TrainImagesFile)}'.");
            }

            using var scope = torch.NewDisposeScope();
            using var generator = new Generator().manual_seed(Seed);
            var permutation = torch.randperm(total, generator: generator);
            long trainCount = total - ValidationSize;
            _train = Gather(x, y, permutation.narrow(0, 0, trainCount));
            if (ValidationSize > 0)
            {
                _validation = Gather(x, y, permutation.narrow(0, trainCount, ValidationSize));
            }
        }
        finally
        {
            x.Dispose();
            y.Dispose();
        }
    }

    /// <summary>The rows <paramref name="indices"/> of <paramref name="x"/> and <paramref name="y"/>, owned by this module.</summary>
    private static (Tensor X, Tensor Y) Gather(Tensor x, Tensor y, Tensor indices) =>
        (x.index_select(0, indices).DetachFromDisposeScope(), y.index_select(0, indices).DetachFromDisposeScope());

    /// <summary>
    /// Reads an images file and a labels file: normalized float32 images (N, 1, H, W) and int64 labels (N),
    /// detached from any dispose scope.
    /// </summary>
    private (Tensor X, Tensor Y) Load(string imagesFile, string labelsFile)
    {
        string imagesPath = FilePath(imagesFile);
        string labelsPath = FilePath(labelsFile);
        var images = IdxReader.Read(imagesPath);
        if (images.ElementType != IdxElementType.UInt8 || images.Shape.Length != 3)
        {
            throw new LightningException(
                $"'{imagesPath}' must hold unsigned bytes of shape (N, height, width), not {images.ElementType} of shape [{string.Join(", ", images.Shape)}].");
        }
        var labels = IdxReader.Read(labelsPath);
        if (labels.ElementType != IdxElementType.UInt8 || labels.Shape.Length != 1 || labels.Shape[0] != images.Shape[0])
        {
            throw new LightningException(
                $"'{labelsPath}' must hold {images.Shape[0]} unsigned bytes (one per image), not {labels.ElementType} of shape [{string.Join(", ", labels.Shape)}].");
        }

        using var scope = torch.NewDisposeScope();
        var x = images.ToTensor().to_type(ScalarType.Float32).div_(255.0).sub_(Mean).div_(Std).unsqueeze(1);
        var y = labels.ToTensor().to_type(ScalarType.Int64);
        if (labels.ElementCount > 0 && y.max().item<long>() >= ClassNames.Length)
        {
            throw new LightningException($"'{labelsPath}' holds labels outside 0..{ClassNames.Length - 1}.");
        }
        return (x.DetachFromDisposeScope(), y.DetachFromDisposeScope());
    }

    private static LightningException NotSetUp(string loader, Stage stage) =>
        new($"FashionMnistDataModule.{loader}() was called before Setup(Stage.{stage}).");

    private static void Free(ref (Tensor X, Tensor Y)? tensors)
    {
        if (tensors is var (x, y))
        {
            x.Dispose();
            y.Dispose();
        }
        tensors = null;
    }
}
