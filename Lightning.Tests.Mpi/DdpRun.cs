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
        Log("val_acc", forward(batch.X).argmax(1).eq(batch.Y).to_type(ScalarType.Float32).mean(), syncDist: true);

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

    public static Trainer Train(DdpNet model, Strategy strategy, int batchSize, string root, int crashAtStep = -1, int stopAtStep = -1,
        int maxEpochs = 3, string? ckptPath = null, Lightning.Callbacks.ModelCheckpoint? checkpoint = null, int sigtermAtStep = -1)
    {
        var (x, y) = Data(480, 3);
        var (vx, vy) = Data(96, 4);
        var callbacks = new List<ICallback>();
        if (crashAtStep >= 0) callbacks.Add(new CrashAt(crashAtStep));
        if (stopAtStep >= 0) callbacks.Add(new StopAt(stopAtStep));
        if (sigtermAtStep >= 0) callbacks.Add(new SigtermAt(sigtermAtStep));
        if (checkpoint is not null) callbacks.Add(checkpoint);
        var trainer = new Trainer(new TrainerOptions
        {
            MaxEpochs = maxEpochs, Seed = 7, Strategy = strategy, Threads = 1, DefaultRootDir = root, NumSanityValSteps = 0,
            EnableProgressBar = false, EnableModelSummary = false, Callbacks = callbacks,
        });
        trainer.Fit(model, new TensorDataLoader(x, y, batchSize, shuffle: true, seed: 11), new TensorDataLoader(vx, vy, 16), ckptPath);
        return trainer;
    }

    /// <summary>Asks to stop on rank 1 only at a step: every rank must stop there.</summary>
    private sealed class StopAt(int step) : Callback
    {
        public override void OnTrainBatchEnd(Trainer trainer, ILightningModule module, Tensor? loss, long batchIdx)
        {
            if (trainer.Distributed?.Rank == 1 && trainer.GlobalStep == step) trainer.ShouldStop = true;
        }
    }

    [System.Runtime.InteropServices.DllImport("libc")]
    private static extern int kill(int pid, int signal);

    /// <summary>Sends SIGTERM to rank 1's own process at a step (as a scheduler preempting one node): every rank must stop at one batch.</summary>
    private sealed class SigtermAt(int step) : Callback
    {
        public override void OnTrainBatchEnd(Trainer trainer, ILightningModule module, Tensor? loss, long batchIdx)
        {
            if (trainer.Distributed?.Rank == 1 && trainer.GlobalStep == step) kill(Environment.ProcessId, 15);
        }
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

/// <summary>A 784-128-10 MLP for the scaling measurement (BENCHMARKS.md).</summary>
[LightningModule]
public partial class DdpMlp() : Module<Tensor, Tensor>(nameof(DdpMlp))
{
    private readonly Linear fc1 = Linear(784, 128);
    private readonly Linear fc2 = Linear(128, 10);

    public override Tensor forward(Tensor x) => fc2.forward(functional.relu(fc1.forward(x)));

    [TrainingStep]
    Tensor TrainingStep((Tensor X, Tensor Y) batch) => functional.cross_entropy(forward(batch.X), batch.Y);

    [ConfigureOptimizers]
    Optimization ConfigureOptimizers() => torch.optim.SGD(parameters(), 0.05);
}

/// <summary>Times epochs of DdpMlp on synthetic data: the data-parallel scaling benchmark.</summary>
public static class DdpBench
{
    public static string Run(int globalBatch, int threads, int epochs)
    {
        var ddp = Lightning.Distributed.DataParallel.Start();
        using var g = new Generator(5);
        var x = randn(new long[] { 30720, 784 }, generator: g).DetachFromDisposeScope();
        var y = randint(0, 10, new long[] { 30720 }, generator: g).DetachFromDisposeScope();
        Seed.Everything(1);
        var model = new DdpMlp();
        var times = new List<double>();
        var timer = new EpochTimer(times);
        var trainer = new Trainer(new TrainerOptions
        {
            MaxEpochs = epochs, Seed = 7, Strategy = ddp.WorldSize > 1 ? Strategy.Ddp : Strategy.Auto, Threads = threads, NumSanityValSteps = 0,
            EnableProgressBar = false, EnableModelSummary = false, EnableCheckpointing = false,
            Loggers = Array.Empty<Lightning.Loggers.ILightningLogger>(), Callbacks = new ICallback[] { timer },
        });
        trainer.Fit(model, new TensorDataLoader(x, y, globalBatch / ddp.WorldSize, shuffle: true, seed: 3));
        var steady = times.Skip(1).DefaultIfEmpty(times[0]).Average();
        long stepsPerEpoch = trainer.GlobalStep / epochs;
        var used = trainer.Distributed ?? ddp;
        double allReduceMs = used.AllReduceCount == 0 ? 0 : used.AllReduceTime.TotalMilliseconds / used.AllReduceCount;
        double stepMs = steady * 1000 / stepsPerEpoch;
        var ci = System.Globalization.CultureInfo.InvariantCulture;
        return $"world {ddp.WorldSize} threads/rank {threads} global batch {globalBatch}: epoch {steady.ToString("0.000", ci)} s (after the first), " +
            $"{stepsPerEpoch} steps/epoch, {(1000 / stepMs).ToString("0.0", ci)} steps/s, {(globalBatch * 1000 / stepMs).ToString("0", ci)} samples/s, " +
            $"all-reduce {allReduceMs.ToString("0.000", ci)} ms/step = {(allReduceMs / stepMs * 100).ToString("0.0", ci)}% of a step";
    }

    private sealed class EpochTimer(List<double> times) : Callback
    {
        private long _start;
        public override void OnTrainEpochStart(Trainer trainer, ILightningModule module) => _start = System.Diagnostics.Stopwatch.GetTimestamp();
        public override void OnTrainEpochEnd(Trainer trainer, ILightningModule module) => times.Add(System.Diagnostics.Stopwatch.GetElapsedTime(_start).TotalSeconds);
    }
}
