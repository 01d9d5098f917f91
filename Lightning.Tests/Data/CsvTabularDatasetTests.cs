using System;
using System.IO;
using System.Linq;
using Lightning.Data;
using Xunit;

namespace Lightning.Tests.Data;

public sealed class CsvTabularDatasetTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("lightning-csv-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string File(string name, string text)
    {
        var path = Path.Combine(_dir, name);
        System.IO.File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public void LoadsFeaturesAndTheLastColumnAsTarget()
    {
        var table = CsvTabularDataset.Load(File("t.csv", "a,b,label\n1,2.5,0\n-3,4e-1,1\n"));
        Assert.Equal(new[] { "a", "b" }, table.FeatureNames);
        Assert.Equal("label", table.TargetName);
        Assert.Equal(new long[] { 2, 2 }, table.Features.shape);
        Assert.Equal(new float[] { 1, 2.5f, -3, 0.4f }, table.Features.data<float>().ToArray());
        Assert.Equal(new float[] { 0, 1 }, table.Targets.data<float>().ToArray());
    }

    [Fact]
    public void NamedTargetAndFeatureColumns()
    {
        var table = CsvTabularDataset.Load(File("t.csv", "y,a,b,c\n1,2,3,4\n"), target: "y", features: new[] { "c", "a" });
        Assert.Equal(new float[] { 4, 2 }, table.Features.data<float>().ToArray());
        Assert.Equal(new float[] { 1 }, table.Targets.data<float>().ToArray());
    }

    [Theory]
    [InlineData("a,b,label\n1,2,0\n3,x,1\n", "line 3, column 'b': 'x' is not a number")]
    [InlineData("a,b,label\n1,2,0\n3,4\n", "line 3: 2 fields, but the header has 3 columns")]
    [InlineData("a,b,label\n", "has a header but no rows")]
    [InlineData("a,b,label\n1,2,NaN\n", "column 'label': 'NaN' is not a number")]
    public void MalformedRowsNameTheFileLineAndColumn(string text, string expected)
    {
        var path = File("bad.csv", text);
        var e = Assert.Throws<LightningException>(() => CsvTabularDataset.Load(path));
        Assert.Contains(path, e.Message);
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void UnknownColumnsAreClearErrors()
    {
        var path = File("t.csv", "a,b\n1,2\n");
        Assert.Contains("no target column 'z' (columns: a, b)", Assert.Throws<LightningException>(() => CsvTabularDataset.Load(path, target: "z")).Message);
        Assert.Contains("no feature column 'q'", Assert.Throws<LightningException>(() => CsvTabularDataset.Load(path, features: new[] { "q" })).Message);
        Assert.Contains("does not exist", Assert.Throws<LightningException>(() => CsvTabularDataset.Load(Path.Combine(_dir, "none.csv"))).Message);
    }

    [Fact]
    public void DataModuleSplitsBySeedAndBatches()
    {
        var rows = string.Join("\n", Enumerable.Range(0, 50).Select(i => $"{i},{i % 2}"));
        var path = File("t.csv", "x,y\n" + rows + "\n");
        var data = new CsvDataModule(path, batchSize: 8, valFraction: 0.2, seed: 3);
        data.Setup(Stage.Fit);
        var train = data.TrainDataLoader().ToList();
        var val = data.ValDataLoader()!.ToList();
        Assert.Equal(40, train.Sum(b => b.X.shape[0]));
        Assert.Equal(10, val.Sum(b => b.X.shape[0]));
        var seen = train.Concat(val).SelectMany(b => b.X.data<float>().ToArray()).OrderBy(v => v).ToArray();
        Assert.Equal(Enumerable.Range(0, 50).Select(i => (float)i), seen);   // a partition of the rows

        var again = new CsvDataModule(path, batchSize: 8, valFraction: 0.2, seed: 3);
        again.Setup(Stage.Fit);
        Assert.Equal(val.SelectMany(b => b.X.data<float>().ToArray()), again.ValDataLoader()!.SelectMany(b => b.X.data<float>().ToArray()));
    }
}
