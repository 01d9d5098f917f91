using Lightning;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace FashionMnist;

/// <summary>
/// The seed's CNN for Fashion-MNIST: two conv blocks (conv 3x3, ReLU, 2x2 max-pool) and a linear classifier.
/// The hyperparameters are the seed's config; the generator turns them into <c>FashionCnn.HParams</c>. Their ranges
/// are checked wherever values come in (command line, config file, checkpoint, <c>Create</c>), before any layer is built:
/// a 0-channel conv or a 0-sample batch fails with a one-line message instead of a TorchSharp error. The filter counts
/// stop at 1024, far beyond the seed's 64/128, so a mistyped count cannot allocate gigabytes.
/// </summary>
[LightningModule]
public partial class FashionCnn(
    [Hyperparameter(Description = "channels of the first conv block", Min = 1, Max = 1024)] int filters1 = 64,
    [Hyperparameter(Description = "channels of the second conv block", Min = 1, Max = 1024)] int filters2 = 128)
    : Module<Tensor, Tensor>(nameof(FashionCnn))
{
    [Hyperparameter(Description = "learning rate", Min = 0)]
    public double Lr { get; init; } = 1e-3;

    [Hyperparameter(Description = "the optimizer", Choices = new[] { "adam", "adamw", "sgd" })]
    public string Optimizer { get; init; } = "adam";

    [Hyperparameter(Description = "samples per batch", Min = 1)]
    public int BatchSize { get; init; } = 64;

    [Hyperparameter(Description = "learning-rate decay per epoch", Min = 0, Max = 1)]
    public double LrDecay { get; init; } = 0.7;

    private readonly Sequential conv1 = Block(1, filters1);
    private readonly Sequential conv2 = Block(filters1, filters2);
    private readonly Linear fc = Linear(filters2 * 7 * 7, 10);

    private static Sequential Block(long inChannels, long outChannels) => Sequential(
        Conv2d(inChannels, outChannels, kernel_size: 3, padding: 1),
        ReLU(),
        MaxPool2d(kernel_size: 2, stride: 2));

    public override Tensor forward(Tensor x) => fc.forward(conv2.forward(conv1.forward(x)).flatten(1));

    [TrainingStep]
    private Tensor TrainingStep((Tensor X, Tensor Y) batch, long batchIdx)
    {
        var logits = forward(batch.X);
        var loss = functional.cross_entropy(logits, batch.Y);
        Log("loss", loss, onEpoch: true);   // the progress bar shows each step, the epoch line the epoch mean
        Log("acc", Accuracy(logits, batch.Y), progBar: true, onEpoch: true);
        return loss;
    }

    [ValidationStep]
    private void ValidationStep((Tensor X, Tensor Y) batch, long batchIdx)
    {
        var logits = forward(batch.X);
        Log("val_loss", functional.cross_entropy(logits, batch.Y));
        Log("val_acc", Accuracy(logits, batch.Y), progBar: true);
    }

    [TestStep]
    private void TestStep((Tensor X, Tensor Y) batch, long batchIdx)
    {
        var logits = forward(batch.X);
        Log("test_loss", functional.cross_entropy(logits, batch.Y));
        Log("test_acc", Accuracy(logits, batch.Y));
    }

    [PredictStep]
    private Tensor PredictStep((Tensor X, Tensor Y) batch, long batchIdx) => forward(batch.X).argmax(1);

    [ConfigureOptimizers]
    private Optimization ConfigureOptimizers()
    {
        // Choices lets only these three in from the command line, config files and checkpoints; the last arm catches a value set in code.
        torch.optim.Optimizer optimizer = Optimizer switch
        {
            "adam" => torch.optim.Adam(parameters(), lr: Lr),
            "adamw" => torch.optim.AdamW(parameters(), lr: Lr),
            "sgd" => torch.optim.SGD(parameters(), learningRate: Lr, momentum: 0.9),
            _ => throw new LightningException($"Hyperparameter 'optimizer' is '{Optimizer}': expected adam, adamw or sgd."),
        };
        return new Optimization(optimizer, torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma: LrDecay));
    }

    private static Tensor Accuracy(Tensor logits, Tensor labels) =>
        logits.argmax(1).eq(labels).to_type(ScalarType.Float32).mean();
}
