using System;
using System.Collections.Generic;
using System.IO;
using Lightning;
using Lightning.Callbacks;
using Lightning.Data;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Lightning.Tests.Probe;

/// <summary>
/// The module whose checkpoints are fuzzed: an integer hyperparameter that shapes two layers, a batch norm (so the
/// file holds an I64 scalar buffer, <c>num_batches_tracked</c>, beside the F32 weights), Adam and a per-epoch scheduler,
/// and a validation step that logs <c>val_loss</c> for EarlyStopping.
/// </summary>
[LightningModule]
public partial class FuzzNet([Hyperparameter(Description = "hidden units")] int hidden = 8)
    : Module<Tensor, Tensor>(nameof(FuzzNet))
{
    [Hyperparameter(Description = "learning rate")]
    public double Lr { get; init; } = 0.01;

    [Hyperparameter(Description = "learning-rate decay per epoch")]
    public double LrDecay { get; init; } = 0.9;

    private readonly Linear fc1 = Linear(4, hidden);
    private readonly BatchNorm1d bn = BatchNorm1d(hidden);
    private readonly Linear fc2 = Linear(hidden, 3);

    public override Tensor forward(Tensor x) => fc2.forward(functional.relu(bn.forward(fc1.forward(x))));

    [TrainingStep]
    private Tensor TrainingStep((Tensor X, Tensor Y) batch, long batchIdx)
    {
        var loss = functional.cross_entropy(forward(batch.X), batch.Y);
        Log("loss", loss, onEpoch: true);
        return loss;
    }

    [ValidationStep]
    private void ValidationStep((Tensor X, Tensor Y) batch, long batchIdx) =>
        Log("val_loss", functional.cross_entropy(forward(batch.X), batch.Y));

    [ConfigureOptimizers]
    private Optimization ConfigureOptimizers()
    {
        var adam = torch.optim.Adam(parameters(), lr: Lr);
        return new Optimization(adam, torch.optim.lr_scheduler.ExponentialLR(adam, gamma: LrDecay));
    }
}

/// <summary>The data, callbacks and trainer options shared by <c>make</c> and <c>load</c>.</summary>
public static class FuzzRun
{
    /// <summary>Training samples (6 batches of 8 an epoch) and validation samples (2 batches).</summary>
    public const int TrainSamples = 48, ValSamples = 16, BatchSize = 8;

    /// <summary>A step checkpoint every 5 optimizer steps: step 5 (epoch 0, batch 5) and step 10 (epoch 1, batch 4) fall within epochs.</summary>
    public const int EveryNTrainSteps = 5;

    /// <summary>Three Gaussian blobs in 4 dimensions, from a seed.</summary>
    public static (Tensor X, Tensor Y) Blobs(int n, ulong seed)
    {
        using var g = new Generator(seed);
        var y = randint(0, 3, new long[] { n }, generator: g);
        var centers = tensor(new float[] { 2, 0, 0, 0, 0, 2, 0, 0, 0, 0, 2, 2 }).reshape(3, 4);
        var x = centers.index_select(0, y) + randn(new long[] { n, 4 }, generator: g) * 0.7f;
        return (x.DetachFromDisposeScope(), y.DetachFromDisposeScope());
    }

    public static (TensorDataLoader Train, TensorDataLoader Val) Loaders()
    {
        var (x, y) = Blobs(TrainSamples, 3);
        var (vx, vy) = Blobs(ValSamples, 4);
        return (new TensorDataLoader(x, y, BatchSize, shuffle: true, seed: 11), new TensorDataLoader(vx, vy, BatchSize));
    }

    /// <summary>
    /// Options with the callbacks whose states the checkpoints carry. SaveTopK = -1 keeps every file: a resumed fit then
    /// never deletes a checkpoint a mutated state names. Checkpoints go to <paramref name="checkpointDir"/>.
    /// </summary>
    public static TrainerOptions Options(string root, string checkpointDir, int maxEpochs) => new()
    {
        MaxEpochs = maxEpochs,
        Seed = 7,
        Threads = 1,
        DefaultRootDir = root,
        NumSanityValSteps = 0,
        EnableProgressBar = false,
        EnableModelSummary = false,
        Loggers = Array.Empty<Lightning.Loggers.ILightningLogger>(),
        Output = TextWriter.Null,
        Callbacks = new List<ICallback>
        {
            // Epoch and step triggers exclude each other (as Lightning's), so two callbacks: one per epoch with last.ckpt, one per 5 steps.
            new ModelCheckpoint { DirPath = checkpointDir, SaveTopK = -1, SaveLast = true, EveryNEpochs = 1 },
            new ModelCheckpoint { DirPath = checkpointDir, SaveTopK = -1, EveryNTrainSteps = EveryNTrainSteps },
            new EarlyStopping { Monitor = "val_loss", Patience = 3 },
        },
    };
}
