using System;
using System.Globalization;
using System.Linq;
using FashionMnist;
using Lightning;
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
    var trainer = new Trainer(new TrainerOptions { MaxEpochs = maxEpochs, Seed = 42 });
    var model = new FashionCnn();
    var data = new FashionMnistDataModule(batchSize: model.Hparams.BatchSize, dataDir: dataDir);
    trainer.Fit(model, data);
    var test = trainer.Test(model, data);
    Console.WriteLine($"Test accuracy {test["test_acc"].ToString("0.0000", CultureInfo.InvariantCulture)}");

    // One safetensors file with the weights and hyperparameters; reloading rebuilds the model from them.
    var path = System.IO.Path.Combine("lightning_logs", "fashion-cnn.ckpt");
    System.IO.Directory.CreateDirectory("lightning_logs");
    trainer.SaveCheckpoint(path);
    var reloaded = FashionCnn.LoadFromCheckpoint(path);
    var again = new Trainer(new TrainerOptions { EnableProgressBar = false }).Test(reloaded, data);
    Console.WriteLine($"Saved {path}; reloaded with filters1={reloaded.Hparams.Filters1}, filters2={reloaded.Hparams.Filters2}, lr={reloaded.Hparams.Lr}: " +
        $"test accuracy {again["test_acc"].ToString("0.0000", CultureInfo.InvariantCulture)}");
    return 0;
}
catch (LightningException e)
{
    Console.Error.WriteLine("error: " + e.Message);
    return 1;
}
