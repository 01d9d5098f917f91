namespace Lightning;

/// <summary>
/// Whether a smaller or a larger monitored metric is better, for <see cref="Callbacks.EarlyStopping"/> and
/// <see cref="Callbacks.ModelCheckpoint"/>: Lightning's <c>mode="min"</c> / <c>mode="max"</c>.
/// </summary>
public enum MonitorMode
{
    /// <summary><c>"min"</c>: a smaller value is better (a loss). The default.</summary>
    Min,
    /// <summary><c>"max"</c>: a larger value is better (an accuracy).</summary>
    Max,
}

public static partial class LightningSpelling
{
    // Lightning: EarlyStopping.mode_dict = {"min": torch.lt, "max": torch.gt} (src/lightning/pytorch/callbacks/early_stopping.py),
    // ModelCheckpoint.__init_monitor_mode (callbacks/model_checkpoint.py).
    private static readonly Spelling<MonitorMode> MonitorModes = new(new[] { (MonitorMode.Min, "min"), (MonitorMode.Max, "max") });

    /// <summary>Lightning's spelling: <c>"min"</c> or <c>"max"</c>.</summary>
    public static string ToLightningString(this MonitorMode mode) => MonitorModes.Format(mode);

    /// <summary>Reads Lightning's <c>"min"</c> or <c>"max"</c>.</summary>
    public static bool TryParse(string? text, out MonitorMode mode) => MonitorModes.TryParse(text, out mode);
}
