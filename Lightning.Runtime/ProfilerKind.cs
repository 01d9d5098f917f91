namespace Lightning;

/// <summary>Which profiler times a fit: Lightning's <c>profiler</c> flag (the one Lightning for TorchSharp has). docs/profiler.md.</summary>
public enum ProfilerKind
{
    /// <summary>No profiler (Lightning's <c>profiler=None</c>, null in a config file): nothing is timed. The default.</summary>
    None,
    /// <summary>
    /// <c>"simple"</c>: Lightning's <c>SimpleProfiler</c>. Each action of the fit (fetching a batch, the device transfer, the training
    /// step, backward, optimizer step, zero_grad, validation, each callback hook, loggers, checkpoint writes) is timed; at the end of
    /// the fit a table of calls, mean, total and share of the fit is printed and written to <c>profile.csv</c> in the run folder.
    /// </summary>
    Simple,
}

public static partial class LightningSpelling
{
    // Lightning: Trainer(profiler=None | "simple" | "advanced" | "pytorch" | "xla") (src/lightning/pytorch/trainer/setup.py,
    // _init_profiler's PROFILERS); None is null in LightningCLI's config, so "null" (and "none") read as ProfilerKind.None. Only "simple" is
    // offered: the others profile Python.
    private static readonly Spelling<ProfilerKind> ProfilerKinds =
        new(new[] { (ProfilerKind.None, "null"), (ProfilerKind.Simple, "simple") }, aliases: new[] { ("none", ProfilerKind.None) },
            expected: "\"simple\" (or null)", helpNames: new[] { "simple" });

    /// <summary>Lightning's spelling: <c>"simple"</c>; <c>"null"</c> for <see cref="ProfilerKind.None"/>.</summary>
    public static string ToLightningString(this ProfilerKind kind) => ProfilerKinds.Format(kind);

    /// <summary>Reads Lightning's <c>"simple"</c>, or <c>"null"</c>/<c>"none"</c> for no profiler.</summary>
    public static bool TryParse(string? text, out ProfilerKind kind) => ProfilerKinds.TryParse(text, out kind);
}
