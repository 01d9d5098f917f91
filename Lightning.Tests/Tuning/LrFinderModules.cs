using System.Collections.Generic;
using System.Linq;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Lightning.Tests.Tuning;

/// <summary>
/// One weight w (from 0) fitted to y = x with x = 1: the loss 0.5 (w - 1)^2 has gradient w - 1, so plain SGD at rate η turns
/// the error e = w - 1 into (1 - η) e. From e = -1, the loss before step k is 0.5 · Π_{j&lt;k} (1 - η_j)^2: it falls fastest
/// for rates near 1 and grows for rates above 2, a curve the tests compute by hand.
/// </summary>
[LightningModule]
public partial class OneWeight : nn.Module<Tensor, Tensor>
{
    private readonly Parameter w = nn.Parameter(zeros(1));
    private torch.optim.Optimizer? _kept;

    public OneWeight() : base(nameof(OneWeight)) => RegisterComponents();

    [Hyperparameter(Min = 0)] public double Lr { get; init; } = 0.1;

    [Hyperparameter(Min = 0, Max = 1)] public double Momentum { get; init; } = 0.0;

    /// <summary>[ConfigureOptimizers] returns the same optimizer every time (one kept in a field).</summary>
    [Hyperparameter] public bool KeepOptimizer { get; init; } = false;

    /// <summary>The rate of the first param group at each optimizer step, seen from the module's own hook.</summary>
    public List<double> SteppedRates { get; } = new();

    /// <summary>Training steps run (batches), accumulated ones included.</summary>
    public int Batches { get; private set; }

    public Parameter Weight => w;

    public override Tensor forward(Tensor x) => x * w;

    [TrainingStep]
    private Tensor TrainingStep((Tensor X, Tensor Y) batch, long batchIdx)
    {
        Batches++;
        var e = forward(batch.X) - batch.Y;
        return 0.5 * (e * e).mean();
    }

    [ConfigureOptimizers]
    private Optimization ConfigureOptimizers()
    {
        if (KeepOptimizer && _kept is not null) return _kept;
        var sgd = torch.optim.SGD(parameters(), learningRate: Lr, momentum: Momentum);
        if (KeepOptimizer) _kept = sgd;
        return sgd;
    }

    private void OnBeforeOptimizerStep(torch.optim.Optimizer optimizer) => SteppedRates.Add(optimizer.ParamGroups.First().LearningRate);

    /// <summary><paramref name="count"/> batches of one sample x = 1, y = 1.</summary>
    public static List<(Tensor X, Tensor Y)> Batches1(int count) =>
        Enumerable.Range(0, count).Select(_ => (ones(1, 1).DetachFromDisposeScope(), ones(1, 1).DetachFromDisposeScope())).ToList();
}
