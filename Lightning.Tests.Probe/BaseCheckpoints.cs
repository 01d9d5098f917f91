using System.IO;
using Lightning.Checkpoints;

namespace Lightning.Tests.Probe;

/// <summary>The base checkpoints the mutations start from.</summary>
public static class BaseCheckpoints
{
    /// <summary>
    /// Trains FuzzNet for 2 epochs (6 steps each) with step checkpoints every 5 steps and epoch checkpoints, then keeps
    /// three files in <paramref name="dir"/>: <c>last.ckpt</c> (end of epoch 1, after its validation, before its
    /// scheduler step), <c>mid.ckpt</c> (step 10: epoch 1, batch 4 of 6) and <c>weights.ckpt</c> (weights and
    /// hyperparameters only). The run's own checkpoints stay in <c>dir/ckpt</c>, which the saved callback states name.
    /// </summary>
    public static string Make(string dir)
    {
        Directory.CreateDirectory(dir);
        var ckpt = Path.Combine(dir, "ckpt");
        Seed.Everything(1);
        var model = new FuzzNet();
        var (train, val) = FuzzRun.Loaders();
        var trainer = new Trainer(FuzzRun.Options(Path.Combine(dir, "run"), ckpt, maxEpochs: 2));
        trainer.Fit(model, train, val);
        File.Copy(Path.Combine(ckpt, "last.ckpt"), Path.Combine(dir, "last.ckpt"), overwrite: true);
        File.Copy(Path.Combine(ckpt, "epoch=1-step=10.ckpt"), Path.Combine(dir, "mid.ckpt"), overwrite: true);
        Checkpoint.Save(Path.Combine(dir, "weights.ckpt"), model);
        return $"base checkpoints in {dir}: last.ckpt, mid.ckpt, weights.ckpt (step {trainer.GlobalStep})";
    }
}
