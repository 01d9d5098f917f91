using System;
using System.Collections.Generic;
using System.Linq;

namespace Lightning.Loops;

/// <summary>
/// The latest value of every metric (Lightning's <c>callback_metrics</c>) and the metrics of each finished training epoch:
/// written by the loops, read by callbacks, schedulers and the user through <see cref="Trainer"/>.
/// </summary>
internal sealed class MetricBoard
{
    private readonly Dictionary<string, double> _latest = new(StringComparer.Ordinal);
    private readonly List<IReadOnlyDictionary<string, double>> _history = new();

    public IReadOnlyDictionary<string, double> Latest => _latest;

    public IReadOnlyList<IReadOnlyDictionary<string, double>> History => _history;

    /// <summary>Forgets everything (a new fit).</summary>
    public void Clear()
    {
        _latest.Clear();
        _history.Clear();
    }

    /// <summary>Makes <paramref name="metrics"/> the latest values.</summary>
    public void Publish(IEnumerable<KeyValuePair<string, double>> metrics)
    {
        foreach (var (name, value) in metrics) _latest[name] = value;
    }

    /// <summary>Records a finished training epoch's metrics.</summary>
    public void AddEpoch(IEnumerable<KeyValuePair<string, double>> metrics)
    {
        var record = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var (name, value) in metrics) record[name] = value;
        _history.Add(record);
    }

    /// <summary>
    /// The latest value of <paramref name="monitor"/>, for <paramref name="owner"/> (e.g. "EarlyStopping"); a metric that was
    /// never logged is an error listing the logged ones.
    /// </summary>
    public double Monitored(string owner, string monitor) =>
        _latest.TryGetValue(monitor, out var value) ? value : throw new LightningException(
            $"{owner}(Monitor = \"{monitor}\") could not find the monitored metric in the logged metrics: " +
            (_latest.Count == 0 ? "none were logged" : string.Join(", ", _latest.Keys.OrderBy(k => k, StringComparer.Ordinal))) + ".");
}
