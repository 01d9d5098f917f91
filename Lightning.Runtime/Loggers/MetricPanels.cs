using System;
using System.Collections.Generic;
using System.Linq;

namespace Lightning.Loggers;

/// <summary>One panel of <see cref="PlotLogger"/>'s picture: a metric stem and its series, training first.</summary>
/// <param name="Stem">The metric without its stage prefix: <c>loss</c> for <c>loss</c>, <c>train_loss</c> and <c>val_loss</c>.</param>
/// <param name="Series">The full metric names drawn in the panel: training, then validation, then test.</param>
internal sealed record MetricPanel(string Stem, IReadOnlyList<string> Series);

/// <summary>How <see cref="PlotLogger"/> reads metric names: which values are epoch-level, and which share a panel.</summary>
internal static class MetricPanels
{
    private static readonly (string Prefix, int Stage)[] Prefixes =
    {
        ("train_", 0), ("train/", 0), ("val_", 1), ("val/", 1), ("test_", 2), ("test/", 2),
    };

    /// <summary>
    /// True for names drawn by epoch. Not drawn: <c>epoch</c> and <c>step</c> (the axes), <c>*_step</c> (Lightning's
    /// per-step copies of a metric logged both ways) and <c>*_epoch</c> (the same value as the plain name, which is drawn).
    /// </summary>
    public static bool IsDrawn(string name) =>
        name is not ("epoch" or "step")
        && !name.EndsWith("_step", StringComparison.Ordinal)
        && !name.EndsWith("_epoch", StringComparison.Ordinal);

    /// <summary>The stem of <paramref name="name"/> and its stage: 0 training (also no prefix), 1 validation, 2 test.</summary>
    public static (string Stem, int Stage) Split(string name)
    {
        foreach (var (prefix, stage) in Prefixes)
            if (name.Length > prefix.Length && name.StartsWith(prefix, StringComparison.Ordinal))
                return (name[prefix.Length..], stage);
        return (name, 0);
    }

    /// <summary>The panels for <paramref name="names"/>, ordered by stem (ordinal); in each, training, validation, test series.</summary>
    public static List<MetricPanel> Group(IEnumerable<string> names) =>
        names.Distinct(StringComparer.Ordinal)
            .Select(n => (Name: n, Parts: Split(n)))
            .GroupBy(x => x.Parts.Stem, StringComparer.Ordinal)
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => new MetricPanel(g.Key, g.OrderBy(x => x.Parts.Stage).ThenBy(x => x.Name, StringComparer.Ordinal).Select(x => x.Name).ToList()))
            .ToList();
}
