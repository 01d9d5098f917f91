using System;
using System.Globalization;
using System.IO;
using Lightning;
using Lightning.Checkpoints;
using Lightning.Tests.Mpi;

// Launched by Lightning.Tests/Distributed/DataParallelTests with mpirun:
//   mpirun -np 2 dotnet Lightning.Tests.Mpi.dll OUT.ckpt ROOT GLOBAL_BATCH [CRASH_STEP | stop:STEP | sigterm:STEP | resume]
// Trains DdpNet with Strategy "ddp" and writes rank 0's final weights and metrics.
//   mpirun -np N dotnet Lightning.Tests.Mpi.dll bench GLOBAL_BATCH THREADS_PER_RANK [EPOCHS]   (BENCHMARKS.md)
if (args.Length >= 3 && args[0] == "bench")
{
    var line = DdpBench.Run(int.Parse(args[1], CultureInfo.InvariantCulture), int.Parse(args[2], CultureInfo.InvariantCulture),
        args.Length > 3 ? int.Parse(args[3], CultureInfo.InvariantCulture) : 4);
    if (Lightning.Distributed.DataParallel.Start().IsGlobalZero) Console.WriteLine(line);
    return 0;
}
if (args.Length < 3) { Console.Error.WriteLine("usage: OUT.ckpt ROOT GLOBAL_BATCH [CRASH_STEP]"); return 2; }
Seed.Everything(1);   // the same initial weights as the single-process run (rank 0 broadcasts its own anyway)
var model = new DdpNet();
int globalBatch = int.Parse(args[2], CultureInfo.InvariantCulture);
int crash = args.Length > 3 && !args[3].StartsWith("stop:", StringComparison.Ordinal) && !args[3].StartsWith("sigterm:", StringComparison.Ordinal) && args[3] != "resume" ? int.Parse(args[3], CultureInfo.InvariantCulture) : -1;
int stop = args.Length > 3 && args[3].StartsWith("stop:", StringComparison.Ordinal) ? int.Parse(args[3]["stop:".Length..], CultureInfo.InvariantCulture) : -1;
var probe = Lightning.Distributed.DataParallel.Start();
if (args.Length > 3 && args[3].StartsWith("sigterm:", StringComparison.Ordinal))
{
    // SIGTERM on rank 1 at a step: each rank writes where it stopped to OUT.rankN.txt and exits with the interrupt's code.
    var checkpoint = new Lightning.Callbacks.ModelCheckpoint { DirPath = Path.Combine(args[1], "ckpt"), SaveTopK = 0 };
    try
    {
        DdpRun.Train(model, Strategy.Ddp, globalBatch / probe.WorldSize, args[1], checkpoint: checkpoint,
            sigtermAtStep: int.Parse(args[3]["sigterm:".Length..], CultureInfo.InvariantCulture));
        File.WriteAllText($"{args[0]}.rank{probe.Rank}.txt", "finished");
        return 0;
    }
    catch (FitInterruptedException e)
    {
        File.WriteAllText($"{args[0]}.rank{probe.Rank}.txt", $"{e.Signal} {e.ExitCode} {e.CheckpointPath}");
        probe.Barrier();   // both files written before a rank's exit code makes mpirun end the job
        return e.ExitCode;
    }
}
Trainer trainer;
if (args.Length > 3 && args[3] == "resume")
{
    // One epoch, a checkpoint of it, then a new trainer and a fresh module resume to three epochs.
    var checkpoint = new Lightning.Callbacks.ModelCheckpoint { DirPath = Path.Combine(args[1], "ckpt"), SaveTopK = 0, SaveLast = true };
    DdpRun.Train(model, Strategy.Ddp, globalBatch / probe.WorldSize, args[1], maxEpochs: 1, checkpoint: checkpoint);
    Seed.Everything(99);
    model = new DdpNet();
    trainer = DdpRun.Train(model, Strategy.Ddp, globalBatch / probe.WorldSize, args[1], maxEpochs: 3, ckptPath: Path.Combine(args[1], "ckpt", "last.ckpt"));
}
else trainer = DdpRun.Train(model, Strategy.Ddp, globalBatch / probe.WorldSize, args[1], crash, stop);
if (trainer.IsGlobalZero)
{
    Checkpoint.Save(args[0], model);
    File.WriteAllText(args[0] + ".txt", $"world {probe.WorldSize} steps {trainer.GlobalStep} val_acc {trainer.CallbackMetrics["val_acc"].ToString("R", CultureInfo.InvariantCulture)} logdir {trainer.LogDir}");
}
return 0;
