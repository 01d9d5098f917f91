using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using CsvHelper;

namespace Lightning.Loggers;

/// <summary>
/// Lightning's <c>CSVLogger</c>: <c>metrics.csv</c> (columns <c>epoch</c>, <c>step</c>, then every metric name seen so
/// far, sorted; one row per logging call, empty cells for metrics not in it) and <c>hparams.json</c> in the run's folder.
/// When a new metric appears the file is rewritten with the wider header, so it is always one valid CSV table; each
/// write goes to a temporary file that replaces the old one, so a crash never leaves a broken file.
/// </summary>
public sealed class CsvLogger : ILightningLogger
{
    private readonly List<(int Epoch, long Step, Dictionary<string, double> Values)> _rows = new();
    private readonly SortedSet<string> _columns = new(StringComparer.Ordinal);
    private string? _path;

    /// <inheritdoc/>
    public string Name => "csv";

    /// <summary>The metrics file of the current run, once started.</summary>
    public string? MetricsPath => _path;

    /// <inheritdoc/>
    public void Start(string logDirectory, IHyperParameters hparams)
    {
        Directory.CreateDirectory(logDirectory);
        _path = Path.Combine(logDirectory, "metrics.csv");
        _rows.Clear();
        _columns.Clear();
        AtomicFile.Write(Path.Combine(logDirectory, "hparams.json"), w => w.Write(HyperParameterJson.ToJson(hparams)));
    }

    /// <inheritdoc/>
    public void LogMetrics(IReadOnlyDictionary<string, double> metrics, long step, int epoch)
    {
        if (_path is null) throw new LightningException("CsvLogger.LogMetrics was called before Start.");
        var values = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var (name, value) in metrics)
        {
            if (name is "epoch" or "step") continue;
            values[name] = value;
            _columns.Add(name);
        }
        _rows.Add((epoch, step, values));
        Save();
    }

    /// <inheritdoc/>
    public void Finish()
    {
        if (_path is not null && _rows.Count > 0) Save();
    }

    /// <inheritdoc/>
    public void Dispose() { }

    private void Save()
    {
        var ci = CultureInfo.InvariantCulture;
        AtomicFile.Write(_path!, writer =>
        {
            using var csv = CsvWriter.Create(writer, null, true);
            csv.WriteHeader(new[] { "epoch", "step" }.Concat(_columns).ToArray());
            foreach (var (epoch, step, values) in _rows)
            {
                csv.WriteField(epoch.ToString(ci));
                csv.WriteField(step.ToString(ci));
                foreach (var column in _columns)
                    csv.WriteField(values.TryGetValue(column, out var v) ? v.ToString("R", ci) : "");
                csv.EndRecord();
            }
            csv.Flush();
        });
    }
}

/// <summary>Writes a text file through a temporary file renamed over the target, so readers never see half a file.</summary>
internal static class AtomicFile
{
    public static void Write(string path, Action<TextWriter> write)
    {
        var temp = path + ".tmp";
        try
        {
            using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None))
            using (var writer = new StreamWriter(stream))
            {
                write(writer);
                writer.Flush();
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }
}
