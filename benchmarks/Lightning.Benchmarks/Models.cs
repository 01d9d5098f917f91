using System;
using System.Diagnostics;
using Lightning;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Lightning.Benchmarks;

/// <summary>
/// Records a timestamp each time a step starts, into a preallocated array (about 20 ns, no allocation), so
/// per-step times can be read from inside the trainer's generated loop and from the hand-written loop alike.
/// </summary>
public sealed class StepClock(int capacity)
{
    private readonly long[] _stamps = new long[capacity];

    /// <summary>Stamps recorded since the last <see cref="Reset"/>.</summary>
    public int Count { get; private set; }

    /// <summary>When the last step ended (its dispose scope closed), or 0 when not marked.</summary>
    public long End { get; private set; }

    public void Reset()
    {
        Count = 0;
        End = 0;
    }

    public void MarkEnd() => End = Stopwatch.GetTimestamp();

    public void Mark()
    {
        if (Count < _stamps.Length) _stamps[Count++] = Stopwatch.GetTimestamp();
    }

    public long this[int i] => _stamps[i];

    /// <summary>Milliseconds between consecutive stamps: <c>Count - 1</c> full step cycles.</summary>
    public double[] IntervalsMs()
    {
        var result = new double[Math.Max(0, Count - 1)];
        for (int i = 1; i < Count; i++) result[i - 1] = (_stamps[i] - _stamps[i - 1]) * 1000.0 / Stopwatch.Frequency;
        return result;
    }
}

/// <summary>A module the benchmark can time: the hand loop calls <see cref="Forward"/>, the trainer its training step.</summary>
public interface IBenchModule
{
    /// <summary>Marked at the start of every training step (after the batch exists, before the forward pass).</summary>
    StepClock? Clock { get; set; }

    Tensor Forward(Tensor x);
}

/// <summary>
/// The seed CNN: block(1,64) -> block(64,128) -> Linear(6272,10), block = Conv2d(k3,p1), ReLU, MaxPool2d(2);
/// Adam 1e-3, cross-entropy, logging "loss" (as samples/FashionMnist/FashionCnn.cs, without its accuracy metric).
/// </summary>
[LightningModule]
public partial class SeedCnn() : Module<Tensor, Tensor>(nameof(SeedCnn)), IBenchModule
{
    private readonly Sequential conv1 = Block(1, 64);
    private readonly Sequential conv2 = Block(64, 128);
    private readonly Linear fc = Linear(128 * 7 * 7, 10);

    public StepClock? Clock { get; set; }

    private static Sequential Block(long inChannels, long outChannels) => Sequential(
        Conv2d(inChannels, outChannels, kernel_size: 3, padding: 1),
        ReLU(),
        MaxPool2d(kernel_size: 2, stride: 2));

    public override Tensor forward(Tensor x) => fc.forward(conv2.forward(conv1.forward(x)).flatten(1));

    public Tensor Forward(Tensor x) => forward(x);

    [TrainingStep]
    private Tensor TrainingStep((Tensor X, Tensor Y) batch, long batchIdx)
    {
        Clock?.Mark();
        var loss = functional.cross_entropy(forward(batch.X), batch.Y);
        Log("loss", loss);
        return loss;
    }

    [ConfigureOptimizers]
    private Optimization ConfigureOptimizers() => torch.optim.Adam(parameters(), lr: 1e-3);
}

/// <summary>A tiny MLP 784-128-10: its step is so cheap that the trainer's fixed per-step cost shows.</summary>
[LightningModule]
public partial class TinyMlp() : Module<Tensor, Tensor>(nameof(TinyMlp)), IBenchModule
{
    private readonly Linear fc1 = Linear(784, 128);
    private readonly Linear fc2 = Linear(128, 10);

    public StepClock? Clock { get; set; }

    public override Tensor forward(Tensor x) => fc2.forward(functional.relu(fc1.forward(x.flatten(1))));

    public Tensor Forward(Tensor x) => forward(x);

    [TrainingStep]
    private Tensor TrainingStep((Tensor X, Tensor Y) batch, long batchIdx)
    {
        Clock?.Mark();
        var loss = functional.cross_entropy(forward(batch.X), batch.Y);
        Log("loss", loss);
        return loss;
    }

    [ConfigureOptimizers]
    private Optimization ConfigureOptimizers() => torch.optim.Adam(parameters(), lr: 1e-3);
}
