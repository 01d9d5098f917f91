namespace Lightning;

/// <summary>
/// How <c>Log(name, value, onEpoch: true)</c> reduces a metric's step values to its epoch value: Lightning's <c>reduce_fx</c>.
/// (Not <c>Reduction</c>: that is TorchSharp's loss reduction, <c>torch.nn.Reduction</c>.)
/// </summary>
public enum MetricReduction
{
    /// <summary><c>"mean"</c>: the mean weighted by batch size (the default).</summary>
    Mean,
    /// <summary><c>"sum"</c>: the sum.</summary>
    Sum,
    /// <summary><c>"max"</c>: the largest value.</summary>
    Max,
    /// <summary><c>"min"</c>: the smallest value.</summary>
    Min,
}

public static partial class LightningSpelling
{
    // Lightning: _Metadata._parse_reduce_fx accepts reduce_fx in ("min", "max", "mean", "sum"), and "avg" for "mean"
    // (src/lightning/pytorch/trainer/connectors/logger_connector/result.py).
    private static readonly Spelling<MetricReduction> MetricReductions = new(
        new[] { (MetricReduction.Mean, "mean"), (MetricReduction.Sum, "sum"), (MetricReduction.Max, "max"), (MetricReduction.Min, "min") },
        new[] { ("avg", MetricReduction.Mean) });

    /// <summary>Lightning's spelling: <c>"mean"</c>, <c>"sum"</c>, <c>"max"</c> or <c>"min"</c>.</summary>
    public static string ToLightningString(this MetricReduction reduction) => MetricReductions.Format(reduction);

    /// <summary>Reads Lightning's <c>reduce_fx</c> names <c>"mean"</c> (or <c>"avg"</c>), <c>"sum"</c>, <c>"max"</c> and <c>"min"</c>.</summary>
    public static bool TryParse(string? text, out MetricReduction reduction) => MetricReductions.TryParse(text, out reduction);
}
