using System;
using System.Collections.Generic;
using System.IO;
using System.Text;

namespace Lightning.Loggers;

/// <summary>
/// Lightning's <c>CSVLogger</c>: <c>metrics.csv</c> and <c>hparams.json</c> in the run's folder.
/// <c>metrics.csv</c> has the columns <c>epoch</c>, <c>step</c>, then every metric name seen so far in ordinal order,
/// one row per <see cref="LogMetrics"/> call and an empty cell where a row has no value. When a new metric appears the
/// file is rewritten with the wider header (through a temporary file), so it is always one valid CSV table; other rows
/// are appended and flushed before <see cref="LogMetrics"/> returns, so a crash loses no row that was logged.
/// </summary>
public sealed class CsvLogger : ILightningLogger
{
    /// <summary>The metrics table's file name in the run's folder.</summary>
    public const string MetricsFileName = "metrics.csv";

    /// <summary>The hyperparameters' file name in the run's folder.</summary>
    public const string HparamsFileName = "hparams.json";

    private MetricsCsvFile? _metrics;

    /// <inheritdoc/>
    public string Name => "csv";

    /// <summary>The metrics file of the current run, once started (it exists once a metric was logged).</summary>
    public string? MetricsPath { get; private set; }

    /// <summary>The hyperparameters file of the current run, once started.</summary>
    public string? HparamsPath { get; private set; }

    /// <summary>The metric columns so far, after <c>epoch</c> and <c>step</c>.</summary>
    public IReadOnlyList<string> Columns => _metrics?.Columns ?? Array.Empty<string>();

    /// <inheritdoc/>
    /// <exception cref="LightningException">The folder or <c>hparams.json</c> cannot be written.</exception>
    public void Start(string logDirectory, IHyperParameters hparams)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(logDirectory);
        ArgumentNullException.ThrowIfNull(hparams);
        _metrics?.Close();
        var hparamsPath = Path.Combine(logDirectory, HparamsFileName);
        try
        {
            Directory.CreateDirectory(logDirectory);
            var json = Encoding.UTF8.GetBytes(HyperParameterJson.ToJson(hparams) + "\n");
            AtomicFile.Write(hparamsPath, stream => stream.Write(json));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new LightningException($"CsvLogger: cannot write '{hparamsPath}' ({e.Message}).", e);
        }
        HparamsPath = hparamsPath;
        MetricsPath = Path.Combine(logDirectory, MetricsFileName);
        _metrics = new MetricsCsvFile(MetricsPath);
    }

    /// <inheritdoc/>
    /// <exception cref="LightningException">Called before <see cref="Start"/> or after <see cref="Finish"/>, or the file cannot be written.</exception>
    public void LogMetrics(IReadOnlyDictionary<string, double> metrics, long step, int epoch)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        var file = _metrics ?? throw new LightningException("CsvLogger.LogMetrics was called before Start.");
        try
        {
            file.Append(epoch, step, metrics);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new LightningException($"CsvLogger: cannot write '{MetricsPath}' ({e.Message}).", e);
        }
    }

    /// <summary>Closes <c>metrics.csv</c> (every row is already on disk). Calling it again does nothing.</summary>
    public void Finish() => _metrics?.Close();

    /// <summary>Same as <see cref="Finish"/>.</summary>
    public void Dispose() => Finish();
}
