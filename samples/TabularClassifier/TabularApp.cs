using System;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using Lightning;
using Lightning.Callbacks;
using Lightning.Data;
using Lightning.Predictions;
using static TorchSharp.torch;

namespace TabularClassifier;

/// <summary>
/// The tabular sample: writes a synthetic CSV (10 features, a binary label from a fixed rule plus noise) unless
/// --data names one, trains the 10-32-64-1 classifier with the best checkpoint kept by val_acc, tests it, and writes
/// the test predictions to predictions.csv.
/// </summary>
public static class TabularApp
{
    public static int Run(string[] args, TextWriter? output = null)
    {
        var o = output ?? Console.Out;
        string? data = null, outDir = "tabular_run";
        int rows = 4000, maxEpochs = 10;
        for (int i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new LightningException($"{args[i]} needs a value.");
            switch (args[i])
            {
                case "--data": data = Next(); break;
                case "--out": outDir = Next(); break;
                case "--rows": rows = PositiveInt("--rows", Next()); break;
                case "--max-epochs": maxEpochs = PositiveInt("--max-epochs", Next()); break;
                default: throw new LightningException($"Unknown option '{args[i]}'. Options: --data FILE.csv, --out DIR, --rows N, --max-epochs N.");
            }
        }
        Directory.CreateDirectory(outDir);
        if (data is null)
        {
            data = Path.Combine(outDir, "tabular.csv");
            WriteSyntheticCsv(data, rows, seed: 7);
            WriteSyntheticCsv(Path.Combine(outDir, "tabular_test.csv"), Math.Max(100, rows / 4), seed: 8);
        }
        var testPath = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(data))!, Path.GetFileNameWithoutExtension(data) + "_test.csv");

        var checkpoint = new ModelCheckpoint { Filename = "tabular-{val_acc:.4f}", Monitor = "val_acc", Mode = MonitorMode.Max };
        var trainer = new Trainer(new TrainerOptions
        {
            MaxEpochs = maxEpochs, Seed = 42, DefaultRootDir = outDir, Output = output,
            Callbacks = new ICallback[] { checkpoint, new EarlyStopping { Monitor = "val_loss", Patience = 3 } },
        });
        var model = new TabularModel();
        var dm = new CsvDataModule(data, batchSize: 64, target: "label", testPath: File.Exists(testPath) ? testPath : null);
        trainer.Fit(model, dm);

        var best = TabularModel.LoadFromCheckpoint(checkpoint.BestModelPath!);
        o.WriteLine($"Best checkpoint {checkpoint.BestModelPath}");
        if (dm.TestPath is not null)
        {
            var test = trainer.Test(best, dm);
            o.WriteLine($"Test accuracy {test["test_acc"].ToString("0.0000", CultureInfo.InvariantCulture)}");
            var probabilities = PredictionCsv.Concat(trainer.Predict(best, dm));
            var predictions = Path.Combine(trainer.LogDir, "predictions.csv");
            PredictionCsv.Write(predictions, ("id", arange(probabilities.shape[0])), ("probability", probabilities), ("label", probabilities.ge(0.5)));
            o.WriteLine($"Predictions {predictions}");
        }
        return 0;
    }

    /// <summary>Rows of 10 standard-normal features with label = [x0 + 2 x1 - x2 + 0.5 x3 x4 + noise > 0].</summary>
    public static void WriteSyntheticCsv(string path, int rows, int seed)
    {
        var random = new Random(seed);
        double Normal() => Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
        var ci = CultureInfo.InvariantCulture;
        var sb = new StringBuilder(string.Join(",", Enumerable.Range(0, 10).Select(i => "f" + i)) + ",label\n");
        for (int r = 0; r < rows; r++)
        {
            var x = Enumerable.Range(0, 10).Select(_ => Normal()).ToArray();
            double score = x[0] + 2 * x[1] - x[2] + 0.5 * x[3] * x[4] + 0.3 * Normal();
            sb.Append(string.Join(",", x.Select(v => v.ToString("0.####", ci)))).Append(',').Append(score > 0 ? '1' : '0').Append('\n');
        }
        File.WriteAllText(path, sb.ToString());
    }

    private static int PositiveInt(string option, string text) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var v) && v > 0 ? v
            : throw new LightningException($"{option} must be a positive whole number, got '{text}'.");
}
