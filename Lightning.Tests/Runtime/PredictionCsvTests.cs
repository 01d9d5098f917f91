using System;
using System.IO;
using System.Linq;
using Lightning.Predictions;
using Lightning.Tests.Training;
using Xunit;
using static TorchSharp.torch;

namespace Lightning.Tests.Runtime;

[Collection("Training")]
public sealed class PredictionCsvTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("lightning-predcsv-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void WritesAHeaderAndOneRowPerSample()
    {
        var path = Path.Combine(_dir, "sub", "submit.csv");
        PredictionCsv.Write(path, ("id", arange(3L)), ("label", tensor(new long[] { 2, 0, 1 })), ("p", tensor(new float[] { 0.5f, 0.25f, 1f })));
        Assert.Equal(new[] { "id,label,p", "0,2,0.5", "1,0,0.25", "2,1,1" }, File.ReadAllLines(path));
        Assert.Single(Directory.GetFiles(Path.GetDirectoryName(path)!));   // no temporary file left
    }

    [Fact]
    public void PredictOutputsOfATrainedModelGoToCsv()
    {
        var model = new TinyClassifier();
        var trainer = new Trainer(new TrainerOptions { MaxEpochs = 2, Output = TextWriter.Null, Threads = 1, EnableCheckpointing = false, Seed = 2 });
        trainer.Fit(model, SyntheticData.Loader(96, 1, 16, true));
        var predictions = trainer.Predict(model, SyntheticData.Loader(40, 2, 16, false));   // 16 + 16 + 8
        var labels = PredictionCsv.Concat(predictions);
        var path = Path.Combine(_dir, "submit.csv");
        PredictionCsv.Write(path, ("id", arange(labels.shape[0])), ("label", labels));
        var lines = File.ReadAllLines(path);
        Assert.Equal(41, lines.Length);
        Assert.All(lines.Skip(1), l => Assert.Matches(@"^\d+,[012]$", l));
    }

    [Fact]
    public void MismatchedOrNonVectorColumnsAreClearErrors()
    {
        var path = Path.Combine(_dir, "bad.csv");
        var e = Assert.Throws<LightningException>(() => PredictionCsv.Write(path, ("id", arange(3L)), ("label", arange(2L))));
        Assert.Contains("column 'label' has 2 values but 'id' has 3", e.Message);
        e = Assert.Throws<LightningException>(() => PredictionCsv.Write(path, ("x", ones(2, 2))));
        Assert.Contains("column 'x' has shape [2, 2]", e.Message);
        Assert.False(File.Exists(path));
    }
}
