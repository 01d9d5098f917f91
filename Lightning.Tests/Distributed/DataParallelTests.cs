using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using Lightning.Checkpoints;
using Lightning.Tests.Generation;
using Lightning.Tests.Mpi;
using Xunit;

namespace Lightning.Tests.Distributed;

/// <summary>
/// Data-parallel training over MPI (Strategy "ddp"), launched with mpirun -np 2 on loopback: the final weights equal a
/// single-process run with the same global batch, and a rank that fails ends the job promptly.
/// </summary>
[Collection("Training")]
public sealed class DataParallelTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("lightning-ddp-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string MpiProgram() => ChildPrograms.Dll("Lightning.Tests.Mpi", "Lightning.Tests.Mpi");

    private (int Code, string Output, TimeSpan Elapsed) MpiRun(params string[] args)
    {
        var start = new ProcessStartInfo("mpirun")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = _dir,
        };
        // Root in containers, two ranks on two cores, shared memory without the kernel's cross-memory attach.
        foreach (var a in new[] { "--allow-run-as-root", "--oversubscribe", "-np", "2", "dotnet", MpiProgram() }.Concat(args)) start.ArgumentList.Add(a);
        start.Environment["OMPI_MCA_btl_vader_single_copy_mechanism"] = "none";
        var clock = Stopwatch.StartNew();
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(3)))
        {
            process.Kill(entireProcessTree: true);
            return (-1, "mpirun timed out\n" + stdout.Result + stderr.Result, clock.Elapsed);
        }
        return (process.ExitCode, stdout.Result + stderr.Result, clock.Elapsed);
    }

    [Fact]
    public void TwoRanksGiveTheWeightsOfOneProcessWithTheSameGlobalBatch()
    {
        var path = Path.Combine(_dir, "ddp.ckpt");
        var (code, output, _) = MpiRun(path, Path.Combine(_dir, "ddp"), "32");
        Assert.True(code == 0, output);
        var summary = File.ReadAllText(path + ".txt");
        Assert.StartsWith("world 2 steps 45 ", summary);   // 480 samples, 240 per rank, batches of 16: 15 steps an epoch

        Seed.Everything(1);
        var single = new DdpNet();
        var trainer = DdpRun.Train(single, Strategy.Auto, 32, Path.Combine(_dir, "single"));
        Assert.Equal(45, trainer.GlobalStep);

        var ddp = new DdpNet();
        ((ILightningModule)ddp).RegisterComponentsOnce();
        Checkpoint.Open(path, "Lightning.Tests.Mpi.DdpNet").LoadWeights(ddp);
        var expected = single.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.data<float>().ToArray());
        foreach (var (key, tensor) in ddp.state_dict())
        {
            var values = tensor.data<float>().ToArray();
            for (int i = 0; i < values.Length; i++) Assert.True(Math.Abs(values[i] - expected[key][i]) < 1e-5, $"{key}[{i}]: {values[i]} vs {expected[key][i]}");
        }
        // The validation accuracy is averaged over the two equal shards: the global value.
        var valAcc = double.Parse(summary.Split(' ')[5], System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(trainer.CallbackMetrics["val_acc"], valAcc, 6);
        // Only rank 0 wrote the run folder and its checkpoint.
        Assert.Single(Directory.GetDirectories(Path.Combine(_dir, "ddp", "lightning_logs")));
    }

    [Fact]
    public void ARankThatFailsEndsTheJobPromptlyWithItsError()
    {
        var (code, output, elapsed) = MpiRun(Path.Combine(_dir, "crash.ckpt"), Path.Combine(_dir, "crash"), "32", "5");
        Assert.NotEqual(0, code);
        Assert.Contains("rank 1 fails at step 5", output);
        Assert.True(elapsed < TimeSpan.FromSeconds(60), $"the job took {elapsed} to fail");
        Assert.False(File.Exists(Path.Combine(_dir, "crash.ckpt")));
    }

    [Fact]
    public void AStopAskedOnOneRankStopsEveryRankAtTheSameStep()
    {
        var path = Path.Combine(_dir, "stop.ckpt");
        var (code, output, _) = MpiRun(path, Path.Combine(_dir, "stop"), "32", "stop:5");
        Assert.True(code == 0, output);
        Assert.StartsWith("world 2 steps 5 ", File.ReadAllText(path + ".txt"));
    }

    [Fact]
    public void AResumedDataParallelFitGivesTheUninterruptedWeights()
    {
        var straight = Path.Combine(_dir, "straight.ckpt");
        var (code, output, _) = MpiRun(straight, Path.Combine(_dir, "straight"), "32");
        Assert.True(code == 0, output);
        var resumed = Path.Combine(_dir, "resumed.ckpt");
        (code, output, _) = MpiRun(resumed, Path.Combine(_dir, "resumed"), "32", "resume");
        Assert.True(code == 0, output);
        Assert.StartsWith("world 2 steps 45 ", File.ReadAllText(resumed + ".txt"));

        DdpNet Load(string path)
        {
            var net = new DdpNet();
            ((ILightningModule)net).RegisterComponentsOnce();
            Checkpoint.Open(path, "Lightning.Tests.Mpi.DdpNet").LoadWeights(net);
            return net;
        }
        var expected = Load(straight).state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.data<float>().ToArray());
        foreach (var (key, tensor) in Load(resumed).state_dict()) Assert.Equal(expected[key], tensor.data<float>().ToArray());
    }

    [Fact]
    public void ASigtermOnOneRankStopsEveryRankAtOneBatchAndRankZeroWritesTheCheckpoint()
    {
        // Issue 16: "Under DDP every rank stops at the same batch and rank 0 writes." Rank 1 signals itself after step 7.
        var path = Path.Combine(_dir, "sigterm.ckpt");
        var (code, output, elapsed) = MpiRun(path, Path.Combine(_dir, "sigterm"), "32", "sigterm:7");
        Assert.True(code != 0, "mpirun exited 0 although its ranks were stopped by SIGTERM:\n" + output);
        Assert.True(elapsed < TimeSpan.FromMinutes(2), output);
        var ranks = new[] { 0, 1 }.Select(r => File.ReadAllText($"{path}.rank{r}.txt")).ToList();
        var last = Path.Combine(_dir, "sigterm", "ckpt", "last.ckpt");
        Assert.All(ranks, text => Assert.Equal($"SIGTERM 143 {last}", text));
        var position = Checkpoint.Open(last, "Lightning.Tests.Mpi.DdpNet").ReadPosition(automaticOptimization: true);
        // Rank 1's signal reaches .NET's handler thread some batches later (these take a millisecond); the ranks then agree to
        // stop before the next batch. The counts on both ranks are the checkpoint's (asserted through the shared message).
        Assert.InRange(position.GlobalStep, 7, 45);
        Assert.Single(Directory.GetFiles(Path.Combine(_dir, "sigterm", "ckpt"), "*.ckpt"));
    }
}
