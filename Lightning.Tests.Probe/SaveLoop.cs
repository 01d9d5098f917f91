using System;
using System.IO;
using System.Linq;
using Lightning.Callbacks;
using Lightning.Checkpoints;

namespace Lightning.Tests.Probe;

/// <summary>
/// The child process of KilledSaveTests: <c>save-loop DIR</c> trains FuzzNet for ever with a checkpoint after every step
/// (the best two by step, and last.ckpt) into DIR, printing READY after the first; the test kills it with SIGKILL at
/// random moments. <c>verify DIR</c> then loads every <c>*.ckpt</c> there as a user would.
/// </summary>
public static class SaveLoop
{
    public static int Run(string dir)
    {
        Seed.Everything(1);
        var model = new FuzzNet(hidden: 50_000);   // ~7 MB a file (weights and Adam state), so a kill lands within a write now and then
        var (train, val) = FuzzRun.Loaders();
        var ready = new ReadyCallback();
        var options = FuzzRun.Options(Path.Combine(dir, "run"), dir, maxEpochs: 1_000_000) with
        {
            Callbacks = new ICallback[]
            {
                new ModelCheckpoint { DirPath = dir, Monitor = "step", Mode = MonitorMode.Max, SaveTopK = 2, SaveLast = true, EveryNTrainSteps = 1 },
                ready,
            },
        };
        new Trainer(options).Fit(model, train, val);
        return 0;
    }

    public static int Verify(string dir, TextWriter output)
    {
        int bad = 0, good = 0;
        foreach (var path in Directory.GetFiles(dir, "*.ckpt").OrderBy(p => p, StringComparer.Ordinal))
        {
            try
            {
                using var model = FuzzNet.LoadFromCheckpoint(path);
                if (!Checkpoint.Open(path, "Lightning.Tests.Probe.FuzzNet").CanResume) throw new LightningException("cannot resume");
                good++;
            }
            catch (Exception e)
            {
                bad++;
                output.WriteLine($"BAD {path} {e.GetType().Name}: {e.Message.ReplaceLineEndings(" ")}");
            }
        }
        output.WriteLine($"VERIFIED {good} good, {bad} bad");
        return bad == 0 ? 0 : 1;
    }

    /// <summary>
    /// Says READY once, when the second step starts: the first step's checkpoints are on disk by then (a ModelCheckpoint
    /// runs after the other callbacks at the end of a batch, as Lightning's).
    /// </summary>
    private sealed class ReadyCallback : Callback
    {
        private bool _said;

        public override void OnTrainBatchStart(Trainer trainer, ILightningModule module, long batchIdx)
        {
            if (_said || trainer.GlobalStep == 0) return;
            _said = true;
            Console.Out.WriteLine("READY");
            Console.Out.Flush();
        }
    }
}
