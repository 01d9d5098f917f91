using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using FashionMnist;
using Lightning;
using Lightning.Callbacks;
using Lightning.Cli;
using Lightning.Datasets;

// Trains the seed CNN on Fashion-MNIST (Debian's dataset-fashion-mnist), keeps the best checkpoint by val_acc, stops
// early as the seed does, then tests the best checkpoint. The generated command line (docs/cli.md) takes every
// hyperparameter and trainer option:
//   dotnet FashionMnist.dll [fit] [--max-epochs 5] [--lr 1e-3] [--filters1 64] [--batch-size 64] [--data-dir DIR] ...
//   dotnet FashionMnist.dll fit --lr-find    (find the learning rate first, set --lr to it; docs/lr-finder.md)
//   dotnet FashionMnist.dll test --ckpt-path best
//   dotnet FashionMnist.dll --help
var rest = new List<string>(args);
string? dataDir = null;
int at = rest.IndexOf("--data-dir");
if (at >= 0)
{
    if (at + 1 >= rest.Count) { Console.Error.WriteLine("error: --data-dir needs a folder."); return 2; }
    dataDir = rest[at + 1];
    rest.RemoveRange(at, 2);
}
// No subcommand means fit, so `bash run.sh --max-epochs 1` works.
if (rest.Count == 0 || rest[0].StartsWith("-", StringComparison.Ordinal) && rest[0] is not ("--help" or "-h" or "-?")) rest.Insert(0, "fit");

ModelCheckpoint? checkpoint = null;
return FashionCnn.RunCli(rest.ToArray(), h => new FashionMnistDataModule(batchSize: h.BatchSize, dataDir: dataDir), new CliSettings<FashionCnn, FashionCnn.HParams>
{
    TrainerDefaults = new TrainerOptions { MaxEpochs = 5, Seed = 42 },
    Callbacks = h =>
    {
        // As the seed: keep the checkpoint with the best validation accuracy, stop when it no longer improves.
        checkpoint = new ModelCheckpoint { Filename = "fashion-cnn-{val_acc:.5f}", Monitor = "val_acc", Mode = MonitorMode.Max, SaveTopK = 1 };
        return new ICallback[] { checkpoint, new EarlyStopping { Monitor = "val_acc", Patience = 3, Mode = MonitorMode.Max } };
    },
    AfterFit = (trainer, model) =>
    {
        if (checkpoint?.BestModelPath is null)
        {
            // fast_dev_run, max_epochs 0 or enable_checkpointing off: nothing to test, and that is not an error.
            var why = trainer.Options.FastDevRun > 0 ? "fast_dev_run" : trainer.GlobalStep == 0 ? "no training step ran" : "no validation score was recorded";
            Console.WriteLine($"No checkpoint was written ({why}): the best checkpoint is not tested.");
            return 0;
        }
        var best = FashionCnn.LoadFromCheckpoint(checkpoint.BestModelPath);
        Console.WriteLine($"Best checkpoint {checkpoint.BestModelPath} (filters1={best.Hparams.Filters1}, filters2={best.Hparams.Filters2}, lr={best.Hparams.Lr})");
        var test = trainer.Test(best, new FashionMnistDataModule(batchSize: best.Hparams.BatchSize, dataDir: dataDir));
        Console.WriteLine($"Test accuracy {test["test_acc"].ToString("0.0000", CultureInfo.InvariantCulture)}");
        return 0;
    },
});
