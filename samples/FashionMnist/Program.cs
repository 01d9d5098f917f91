using System;
using System.Globalization;
using System.Linq;
using FashionMnist;
using Lightning;
using Lightning.Callbacks;
using Lightning.Datasets;

// Trains the seed CNN on Fashion-MNIST (Debian's dataset-fashion-mnist) and reports the test accuracy.
// Usage: dotnet run -c Release --project samples/FashionMnist [-- --max-epochs N] [--data-dir DIR]
int maxEpochs = 5;
string? dataDir = null;
for (int i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--max-epochs" when i + 1 < args.Length && int.TryParse(args[i + 1], NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0:
            maxEpochs = n; i++; break;
        case "--data-dir" when i + 1 < args.Length:
            dataDir = args[++i]; break;
        default:
            Console.Error.WriteLine($"Unknown or invalid option '{args[i]}'. Options: --max-epochs N (a positive whole number), --data-dir DIR.");
            return 2;
    }
}

try
{
    // As the seed: keep the checkpoint with the best validation accuracy, stop when it no longer improves,
    // then test the best model.
    var checkpoint = new ModelCheckpoint
    {
        DirPath = System.IO.Path.Combine("lightning_logs", "checkpoints"),
        Filename = "fashion-cnn-{val_acc:.5f}",
        Monitor = "val_acc",
        Mode = "max",
        SaveTopK = 1,
    };
    var earlyStopping = new EarlyStopping { Monitor = "val_acc", Patience = 3, Mode = "max" };
    var trainer = new Trainer(new TrainerOptions { MaxEpochs = maxEpochs, Seed = 42, Callbacks = new Callback[] { checkpoint, earlyStopping } });
    var model = new FashionCnn();
    var data = new FashionMnistDataModule(batchSize: model.Hparams.BatchSize, dataDir: dataDir);
    trainer.Fit(model, data);

    var best = FashionCnn.LoadFromCheckpoint(checkpoint.BestModelPath!);
    Console.WriteLine($"Best checkpoint {checkpoint.BestModelPath} (filters1={best.Hparams.Filters1}, filters2={best.Hparams.Filters2}, lr={best.Hparams.Lr})");
    var test = trainer.Test(best, data);
    Console.WriteLine($"Test accuracy {test["test_acc"].ToString("0.0000", CultureInfo.InvariantCulture)}");
    return 0;
}
catch (LightningException e)
{
    Console.Error.WriteLine("error: " + e.Message);
    return 1;
}
