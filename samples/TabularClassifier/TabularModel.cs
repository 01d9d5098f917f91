using Lightning;
using Lightning.Metrics;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace TabularClassifier;

/// <summary>The seed's tabular classifier: 10 features -> 32 -> 64 -> 1 with ReLU, binary, BCE with logits.</summary>
[LightningModule]
public partial class TabularModel(
    [Hyperparameter(Description = "input features", Min = 1)] int features = 10,
    [Hyperparameter(Description = "first hidden layer", Min = 1)] int hidden1 = 32,
    [Hyperparameter(Description = "second hidden layer", Min = 1)] int hidden2 = 64) : Module<Tensor, Tensor>(nameof(TabularModel))
{
    [Hyperparameter(Description = "Adam learning rate", Min = 0)] public double Lr { get; init; } = 1e-3;

    private readonly Sequential net = Sequential(
        Linear(features, hidden1), ReLU(),
        Linear(hidden1, hidden2), ReLU(),
        Linear(hidden2, 1));

    public override Tensor forward(Tensor x) => net.forward(x).squeeze(-1);   // one logit per row

    [TrainingStep]
    Tensor TrainingStep((Tensor X, Tensor Y) batch, long batchIdx)
    {
        var logits = forward(batch.X);
        var loss = functional.binary_cross_entropy_with_logits(logits, batch.Y);
        Log("loss", loss, progBar: true, onEpoch: true);
        Log("acc", logits.gt(0).to_type(ScalarType.Float32).eq(batch.Y).to_type(ScalarType.Float32).mean(), onEpoch: true);
        return loss;
    }

    [ValidationStep]
    void ValidationStep((Tensor X, Tensor Y) batch, long batchIdx)
    {
        var logits = forward(batch.X);
        Log("val_loss", functional.binary_cross_entropy_with_logits(logits, batch.Y));
        Log("val_acc", logits.gt(0).to_type(ScalarType.Float32).eq(batch.Y).to_type(ScalarType.Float32).mean(), progBar: true);
    }

    [TestStep]
    void TestStep((Tensor X, Tensor Y) batch, long batchIdx)
    {
        var logits = forward(batch.X);
        Log("test_acc", logits.gt(0).to_type(ScalarType.Float32).eq(batch.Y).to_type(ScalarType.Float32).mean());
    }

    /// <summary>The probability of the positive class for each row.</summary>
    [PredictStep]
    Tensor PredictStep((Tensor X, Tensor Y) batch, long batchIdx) => forward(batch.X).sigmoid();

    [ConfigureOptimizers]
    Optimization ConfigureOptimizers() => torch.optim.Adam(parameters(), lr: Lr);
}
