using System;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using Lightning;
using Lightning.Data;
using Lightning.Predictions;
using static TorchSharp.torch;

namespace IgniteStyle;

/// <summary>
/// The Ignite-style sample: a trainer plus an evaluator on train and validation data each epoch (handlers on the
/// module), balanced accuracy, and the test predictions written to submit.csv.
/// </summary>
public static class IgniteApp
{
    public static int Run(string[] args, TextWriter? output = null)
    {
        var o = output ?? Console.Out;
        string outDir = "ignite_run";
        int rows = 3000, maxEpochs = 8;
        for (int i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new LightningException($"{args[i]} needs a value.");
            switch (args[i])
            {
                case "--out": outDir = Next(); break;
                case "--rows": rows = PositiveInt("--rows", Next()); break;
                case "--max-epochs": maxEpochs = PositiveInt("--max-epochs", Next()); break;
                default: throw new LightningException($"Unknown option '{args[i]}'. Options: --out DIR, --rows N, --max-epochs N.");
            }
        }
        Directory.CreateDirectory(outDir);
        var trainCsv = Path.Combine(outDir, "train.csv");
        var testCsv = Path.Combine(outDir, "test.csv");
        WriteSyntheticCsv(trainCsv, rows, seed: 11);
        WriteSyntheticCsv(testCsv, Math.Max(60, rows / 5), seed: 12);

        var dm = new CsvDataModule(trainCsv, batchSize: 32, target: "label", testPath: testCsv, seed: 5);
        dm.Setup(Stage.Fit);
        var model = new IgniteModel
        {
            Output = o,
            TrainEvaluation = dm.TrainDataLoader(),
            ValEvaluation = dm.ValDataLoader(),
        };
        var trainer = new Trainer(new TrainerOptions
        {
            MaxEpochs = maxEpochs, Seed = 3, DefaultRootDir = outDir, Output = output, NumSanityValSteps = 0,
            EnableProgressBar = output is null,
        });
        // The evaluator runs in the handler, so the trainer itself gets no validation data (as Ignite's trainer).
        trainer.Fit(model, dm.TrainDataLoader());

        dm.Setup(Stage.Predict);
        var labels = PredictionCsv.Concat(trainer.Predict(model, dm.PredictDataLoader()!));
        var submit = Path.Combine(outDir, "submit.csv");
        PredictionCsv.Write(submit, ("id", arange(labels.shape[0])), ("label", labels));
        o.WriteLine($"Predictions {submit}");
        return 0;
    }

    /// <summary>Rows of 6 features around one of 3 class centres, with the class as label.</summary>
    public static void WriteSyntheticCsv(string path, int rows, int seed)
    {
        var random = new Random(seed);
        double Normal() => Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
        var ci = CultureInfo.InvariantCulture;
        var sb = new StringBuilder("f0,f1,f2,f3,f4,f5,label\n");
        for (int r = 0; r < rows; r++)
        {
            int label = random.Next(3);
            var x = Enumerable.Range(0, 6).Select(j => (j % 3 == label ? 1.5 : 0.0) + Normal()).ToArray();
            sb.Append(string.Join(",", x.Select(v => v.ToString("0.####", ci)))).Append(',').Append(label).Append('\n');
        }
        File.WriteAllText(path, sb.ToString());
    }

    private static int PositiveInt(string option, string text) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var v) && v > 0 ? v
            : throw new LightningException($"{option} must be a positive whole number, got '{text}'.");
}
