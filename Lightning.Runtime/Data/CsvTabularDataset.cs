using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using CsvHelper;
using static TorchSharp.torch;

namespace Lightning.Data;

/// <summary>
/// A table of numbers from a CSV file with a header, as tensors: <see cref="Features"/> <c>[N, F]</c> and
/// <see cref="Targets"/> <c>[N]</c> (float32). The target column is named (default: the last column); the feature
/// columns are named or all the others. Parsed with CsvHelper; a row with the wrong number of fields or a value that
/// is not a number is an error naming the file, the line and the column.
/// </summary>
public sealed class CsvTabularDataset
{
    private CsvTabularDataset(Tensor features, Tensor targets, IReadOnlyList<string> featureNames, string targetName)
    {
        Features = features;
        Targets = targets;
        FeatureNames = featureNames;
        TargetName = targetName;
    }

    /// <summary>The feature values, <c>[N, F]</c>.</summary>
    public Tensor Features { get; }

    /// <summary>The target values, <c>[N]</c>.</summary>
    public Tensor Targets { get; }

    /// <summary>The feature columns, in order.</summary>
    public IReadOnlyList<string> FeatureNames { get; }

    /// <summary>The target column.</summary>
    public string TargetName { get; }

    /// <summary>The number of rows.</summary>
    public long Count => Targets.shape[0];

    /// <summary>Reads <paramref name="path"/>.</summary>
    public static CsvTabularDataset Load(string path, string? target = null, IReadOnlyList<string>? features = null)
    {
        if (!File.Exists(path)) throw new LightningException($"CSV file '{path}' does not exist.");
        var options = new CsvReaderOptions { HasHeader = true, TrackLineNumbers = true };
        using var reader = CsvReader.FromFile(path, options);
        var headers = reader.Headers.ToList();
        if (headers.Count < 2) throw new LightningException($"{path}: the header has {headers.Count} column(s); a table needs at least one feature and a target.");
        var targetName = target ?? headers[^1];
        int targetIndex = headers.IndexOf(targetName);
        if (targetIndex < 0) throw new LightningException($"{path}: there is no target column '{targetName}' (columns: {string.Join(", ", headers)}).");
        var featureNames = features?.ToList() ?? headers.Where((_, i) => i != targetIndex).ToList();
        if (featureNames.Count == 0) throw new LightningException($"{path}: no feature columns were given.");
        var featureIndices = featureNames.Select(f =>
        {
            int i = headers.IndexOf(f);
            if (i < 0) throw new LightningException($"{path}: there is no feature column '{f}' (columns: {string.Join(", ", headers)}).");
            if (i == targetIndex) throw new LightningException($"{path}: column '{f}' is the target; it cannot also be a feature.");
            return i;
        }).ToArray();

        var x = new List<float>();
        var y = new List<float>();
        while (reader.Read())
        {
            if (reader.FieldCount != headers.Count)
                throw new LightningException($"{path}, line {reader.LineNumber}: {reader.FieldCount} fields, but the header has {headers.Count} columns.");
            foreach (var i in featureIndices) x.Add(Number(reader, i, headers[i], path));
            y.Add(Number(reader, targetIndex, targetName, path));
        }
        if (y.Count == 0) throw new LightningException($"{path}: the file has a header but no rows.");
        var xt = tensor(x.ToArray()).reshape(y.Count, featureIndices.Length).DetachFromDisposeScope();
        var yt = tensor(y.ToArray()).DetachFromDisposeScope();
        return new CsvTabularDataset(xt, yt, featureNames, targetName);
    }

    private static float Number(CsvReader reader, int index, string column, string path)
    {
        var text = reader.GetString(index);
        if (float.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && float.IsFinite(value)) return value;
        throw new LightningException($"{path}, line {reader.LineNumber}, column '{column}': '{text}' is not a number.");
    }
}

/// <summary>
/// A data module over a CSV table (<see cref="CsvTabularDataset"/>): a seeded split into training and validation rows,
/// batches of <c>(X [B, F], Y [B])</c> from <see cref="TensorDataLoader"/>s (training shuffled by seed and epoch); an
/// optional test file, which also serves prediction.
/// </summary>
public sealed class CsvDataModule : LightningDataModule<(Tensor X, Tensor Y)>
{
    private CsvTabularDataset? _table;
    private (Tensor X, Tensor Y)? _train, _val;
    private CsvTabularDataset? _test;

    /// <summary>A data module over <paramref name="path"/>.</summary>
    public CsvDataModule(string path, int batchSize = 32, string? target = null, IReadOnlyList<string>? features = null,
        double valFraction = 0.2, long seed = 42, string? testPath = null)
    {
        if (batchSize < 1) throw new LightningException($"CsvDataModule: batchSize is {batchSize}; expected 1 or more.");
        if (valFraction is < 0 or >= 1) throw new LightningException($"CsvDataModule: valFraction is {valFraction}; expected 0 or more and less than 1.");
        Path = path;
        BatchSize = batchSize;
        Target = target;
        Features = features;
        ValFraction = valFraction;
        Seed = seed;
        TestPath = testPath;
    }

    /// <summary>The training file.</summary>
    public string Path { get; }

    /// <summary>Samples per batch.</summary>
    public int BatchSize { get; }

    /// <summary>The target column (null: the last).</summary>
    public string? Target { get; }

    /// <summary>The feature columns (null: all others).</summary>
    public IReadOnlyList<string>? Features { get; }

    /// <summary>The share of rows held out for validation.</summary>
    public double ValFraction { get; }

    /// <summary>Seeds the split and the training shuffle.</summary>
    public long Seed { get; }

    /// <summary>A test file with the same columns, or null.</summary>
    public string? TestPath { get; }

    /// <summary>The loaded table (after <see cref="Setup"/>).</summary>
    public CsvTabularDataset Table => _table ?? throw new LightningException("CsvDataModule: call Setup first (the trainer does).");

    /// <inheritdoc/>
    public override void Setup(Stage stage)
    {
        if (stage is Stage.Fit or Stage.Validate && _train is null)
        {
            _table = CsvTabularDataset.Load(Path, Target, Features);
            long n = _table.Count, nVal = (long)Math.Floor(n * ValFraction);
            using var g = new Generator((ulong)Seed);
            var order = randperm(n, generator: g);
            var valIdx = order[..(int)nVal];
            var trainIdx = order[(int)nVal..];
            _train = (_table.Features.index_select(0, trainIdx).DetachFromDisposeScope(), _table.Targets.index_select(0, trainIdx).DetachFromDisposeScope());
            _val = nVal > 0 ? (_table.Features.index_select(0, valIdx).DetachFromDisposeScope(), _table.Targets.index_select(0, valIdx).DetachFromDisposeScope()) : null;
        }
        if (stage is Stage.Test or Stage.Predict && TestPath is not null && _test is null)
            _test = CsvTabularDataset.Load(TestPath, Target ?? _table?.TargetName, Features ?? _table?.FeatureNames);
    }

    /// <inheritdoc/>
    public override IEnumerable<(Tensor X, Tensor Y)> TrainDataLoader()
    {
        var (x, y) = _train ?? throw new LightningException("CsvDataModule: call Setup(Stage.Fit) first (the trainer does).");
        return new TensorDataLoader(x, y, BatchSize, shuffle: true, seed: Seed);
    }

    /// <inheritdoc/>
    public override IEnumerable<(Tensor X, Tensor Y)>? ValDataLoader() => _val is var (x, y) ? new TensorDataLoader(x, y, BatchSize) : null;

    /// <inheritdoc/>
    public override IEnumerable<(Tensor X, Tensor Y)>? TestDataLoader() => _test is { } t ? new TensorDataLoader(t.Features, t.Targets, BatchSize) : null;

    /// <inheritdoc/>
    public override IEnumerable<(Tensor X, Tensor Y)>? PredictDataLoader() => TestDataLoader();
}
