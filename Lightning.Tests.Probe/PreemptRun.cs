using System;
using System.Collections.Generic;
using System.Threading;
using Lightning.Callbacks;
using Lightning.Cli;
using Lightning.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace Lightning.Tests.Probe;

/// <summary>
/// The child process of PreemptionTests: <c>cli ARGS...</c> runs FuzzNet's generated command line (fit, --ckpt-path ...) on
/// the fuzz data, printing <c>STEP n</c> after each optimizer step and pausing a little per batch, so a SIGTERM sent by the
/// test lands in the middle of an epoch.
/// </summary>
public static class PreemptRun
{
    private sealed class Blobs : LightningDataModule<(Tensor X, Tensor Y)>
    {
        private TensorDataLoader? _train, _val;

        public override void Setup(Stage stage) => (_train, _val) = FuzzRun.Loaders();

        public override IEnumerable<(Tensor X, Tensor Y)>? TrainDataLoader() => _train;

        public override IEnumerable<(Tensor X, Tensor Y)>? ValDataLoader() => _val;
    }

    /// <summary>Says each step on stdout and takes its time (no effect on the numbers).</summary>
    private sealed class Pace : Callback
    {
        public override void OnTrainBatchEnd(Trainer trainer, ILightningModule module, Tensor? loss, long batchIdx)
        {
            Console.Out.WriteLine("STEP " + trainer.GlobalStep);
            Console.Out.Flush();
            Thread.Sleep(60);   // room for the signal to reach the handler even on a loaded machine
        }
    }

    public static int Run(string[] args) =>
        FuzzNet.RunCli(args, _ => new Blobs(), new CliSettings<FuzzNet, FuzzNet.HParams>
        {
            Callbacks = _ => new ICallback[] { new Pace() },
            TrainerDefaults = new TrainerOptions { Threads = 1, NumSanityValSteps = 0, EnableProgressBar = false, EnableModelSummary = false },
        });
}
