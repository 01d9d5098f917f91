using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Lightning;
using Lightning.Checkpoints;
using Lightning.Data;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Lightning.Tests.Mpi;

/// <summary>A small classifier for the data-parallel tests.</summary>
[LightningModule]
public partial class DdpNet() : Module<Tensor, Tensor>(nameof(DdpNet))
{
    private readonly Linear fc1 = Linear(6, 16);
    private readonly Linear fc2 = Linear(16, 3);

    public override Tensor forward(Tensor x) => fc2.forward(functional.relu(fc1.forward(x)));

    [TrainingStep]
    Tensor TrainingStep((Tensor X, Tensor Y) batch)
    {
        var loss = functional.cross_entropy(forward(batch.X), batch.Y);
        Log("loss", loss, onEpoch: true);
        return loss;
    }

    [ValidationStep]
    void ValidationStep((Tensor X, Tensor Y) batch) =>
        Log("val_acc", forward(batch.X).argmax(1).eq(batch.Y).to_type(ScalarType.Float32).mean());

    [ConfigureOptimizers]
    Optimization ConfigureOptimizers() => torch.optim.SGD(parameters(), 0.1, momentum: 0.9);
}

/// <summary>
/// The run both tests compare: the same model, seed and data, trained for 3 epochs with a per-process batch of
/// <c>globalBatch / worldSize</c> (DDP) or <c>globalBatch</c> (one process).
/// </summary>
public static class DdpRun
{
    public static (Tensor X, Tensor Y) Data(int n, long seed)
    {
        using var g = new Generator((ulong)seed);
        var y = randint(0, 3, new long[] { n }, generator: g);
        var x = nn.functional.one_hot(y, 3).to_type(ScalarType.Float32).repeat(1, 2) * 1.5f + randn(new long[] { n, 6 }, generator: g);
        return (x.DetachFromDisposeScope(), y.DetachFromDisposeScope());
    }

    public static Trainer Train(DdpNet model, string strategy, int batchSize, string root, int crashAtStep = -1)
    {
        var (x, y) = Data(480, 3);
        var (vx, vy) = Data(96, 4);
        var callbacks = new List<ICallback>();
        if (crashAtStep >= 0) callbacks.Add(new CrashAt(crashAtStep));
        var trainer = new Trainer(new TrainerOptions
        {
            MaxEpochs = 3, Seed = 7, Strategy = strategy, Threads = 1, DefaultRootDir = root, NumSanityValSteps = 0,
            EnableProgressBar = false, EnableModelSummary = false, Callbacks = callbacks,
        });
        trainer.Fit(model, new TensorDataLoader(x, y, batchSize, shuffle: true, seed: 11), new TensorDataLoader(vx, vy, 16));
        return trainer;
    }

    /// <summary>Throws on rank 1 at a step, to test that the job fails promptly.</summary>
    private sealed class CrashAt(int step) : Callback
    {
        public override void OnTrainBatchEnd(Trainer trainer, ILightningModule module, Tensor? loss, long batchIdx)
        {
            if (trainer.Distributed?.Rank == 1 && trainer.GlobalStep == step) throw new InvalidOperationException($"rank 1 fails at step {step} (test)");
        }
    }
}
