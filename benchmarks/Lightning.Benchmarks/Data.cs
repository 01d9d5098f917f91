using System;
using System.Collections;
using System.Collections.Generic;
using Lightning.Datasets;
using TorchSharp;
using static TorchSharp.torch;

namespace Lightning.Benchmarks;

/// <summary>
/// Preloaded samples and one fixed order of them. Step <c>s</c> at batch size <c>bs</c> is always the same batch,
/// so the hand loop and the trainer, given the same step numbers, train on exactly the same batches.
/// </summary>
public sealed class BenchData
{
    private BenchData(Tensor x, Tensor y, Tensor order, string description)
    {
        X = x;
        Y = y;
        Order = order;
        Description = description;
    }

    public Tensor X { get; }

    public Tensor Y { get; }

    /// <summary>A permutation of the sample indices (seeded), read in consecutive slices of a batch each.</summary>
    public Tensor Order { get; }

    public string Description { get; }

    public long Samples => X.shape[0];

    /// <summary>Random normal images shaped like Fashion-MNIST's training set, random labels; the same for a seed in every process.</summary>
    public static BenchData Synthetic(long seed = 0, long samples = 60000)
    {
        using var generator = new Generator().manual_seed(seed);
        var x = torch.randn([samples, 1, 28, 28], generator: generator);
        var y = torch.randint(0, 10, [samples], dtype: ScalarType.Int64, generator: generator);
        var order = torch.randperm(samples, generator: generator);
        return new BenchData(x.DetachFromDisposeScope(), y.DetachFromDisposeScope(), order.DetachFromDisposeScope(),
            $"synthetic: {samples}x1x28x28 float32 N(0,1), labels 0..9, generator seed {seed}");
    }

    /// <summary>Fashion-MNIST's 60,000 training images (normalized) through Lightning.Datasets.FashionMnistDataModule.</summary>
    public static BenchData Fashion(long seed = 0)
    {
        var module = new FashionMnistDataModule(validationSize: 0);
        module.PrepareData();
        module.Setup(Stage.Fit);
        var (x, y) = module.Train!.Value;   // owned by the module, which is never torn down: they live for the process
        using var generator = new Generator().manual_seed(seed);
        var order = torch.randperm(x.shape[0], generator: generator).DetachFromDisposeScope();
        return new BenchData(x, y, order, $"Fashion-MNIST training images from {module.DataDir}, order seed {seed}");
    }

    /// <summary>
    /// The batch of step <paramref name="step"/>: rows gathered with <c>index_select</c> (fresh tensors, owned by
    /// the caller's dispose scope), exactly as Lightning.Data.TensorDataLoader builds shuffled batches.
    /// </summary>
    public (Tensor X, Tensor Y) Batch(long step, int batchSize, long batchesPerEpoch)
    {
        long start = (step % batchesPerEpoch) * batchSize;
        using var indices = Order.narrow(0, start, batchSize);
        return (X.index_select(0, indices), Y.index_select(0, indices));
    }
}

/// <summary>
/// The trainer's loader for one run: <c>count</c> batches from step <c>firstStep</c> on, each made lazily in
/// <c>MoveNext</c> (that is, inside the generated loop's per-step dispose scope, where the hand loop makes its own).
/// </summary>
/// The generated loop disposes the enumerator right after the last step's dispose scope closes; that moment is
/// stamped on <c>clock</c>, so the trainer's tear-down can be told apart from its last step.
public sealed class StepBatches(BenchData data, long firstStep, int count, int batchSize, StepClock? clock = null) : IReadOnlyCollection<(Tensor X, Tensor Y)>
{
    private readonly long _batchesPerEpoch = data.Samples / batchSize;

    public int Count => count;

    public IEnumerator<(Tensor X, Tensor Y)> GetEnumerator()
    {
        try
        {
            for (int i = 0; i < count; i++) yield return data.Batch(firstStep + i, batchSize, _batchesPerEpoch);
        }
        finally
        {
            clock?.MarkEnd();
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
