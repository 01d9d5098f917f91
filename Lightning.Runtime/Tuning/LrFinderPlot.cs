using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using Lightning.Loggers;

namespace Lightning.Tuning;

/// <summary>
/// The finder's picture, as Lightning's <c>_LRFinder.plot</c>: the smoothed loss against the learning rate (log-scaled for an
/// exponential sweep: the rates are drawn at their base-10 logarithm, with a tick and a <c>1e-4</c> label at each power of
/// ten and minor ticks between), the suggested rate as a red point. Non-finite losses are not drawn.
/// </summary>
internal static class LrFinderPlot
{
    public static string Write(LrFinderResult result, string path, LrSuggestion? suggestion, int width, int height)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (width < 100 || height < 100) throw new LightningException($"LrFinderResult.Plot: {width} x {height} pixels; expected at least 100 x 100.");
        bool log = result.Mode == LrFindMode.Exponential;
        double X(double lr) => log ? Math.Log10(lr) : lr;
        var points = Enumerable.Range(0, result.Losses.Count)
            .Where(i => double.IsFinite(result.Losses[i]) && (!log || result.LearningRates[i] > 0))
            .ToList();

        byte[] png;
        try
        {
            var plot = new ScottPlot.Plot();
            if (PlotLogger.InstalledSansFont() is { } font) plot.Font.Set(font);
            var line = plot.Add.Scatter(points.Select(i => X(result.LearningRates[i])).ToArray(), points.Select(i => result.Losses[i]).ToArray());
            line.MarkerSize = 0;
            line.LineWidth = 2;
            if (suggestion is { } s && double.IsFinite(s.Loss))
            {
                var marker = plot.Add.Marker(X(s.LearningRate), s.Loss);
                marker.Color = ScottPlot.Colors.Red;
                marker.Size = 12;
                plot.Title(string.Create(CultureInfo.InvariantCulture, $"Learning-rate finder: suggested {s.LearningRate:0.###e+0}"));
            }
            else plot.Title("Learning-rate finder");
            plot.XLabel(log ? "Learning rate (log scale)" : "Learning rate");
            plot.YLabel("Loss");
            if (log && points.Count > 0) plot.Axes.Bottom.TickGenerator = DecadeTicks(points.Min(i => X(result.LearningRates[i])), points.Max(i => X(result.LearningRates[i])));
            png = plot.GetImageBytes(width, height, ScottPlot.ImageFormat.Png);
        }
        catch (Exception e) when (e is DllNotFoundException or TypeInitializationException or BadImageFormatException)
        {
            throw new LightningException("LrFinderResult.Plot: SkiaSharp's native library could not be loaded, so the plot was not drawn (" + e.Message + ").", e);
        }

        var full = Path.GetFullPath(path);
        try
        {
            if (Path.GetDirectoryName(full) is { Length: > 0 } directory) Directory.CreateDirectory(directory);
            AtomicFile.Write(full, stream => stream.Write(png));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new LightningException($"LrFinderResult.Plot: cannot write '{full}' ({e.Message}).", e);
        }
        return full;
    }

    /// <summary>Ticks on a log10 axis from <paramref name="min"/> to <paramref name="max"/> (in decades): labelled powers of ten, minor ticks at 2..9 times them.</summary>
    private static ScottPlot.TickGenerators.NumericManual DecadeTicks(double min, double max)
    {
        var ticks = new ScottPlot.TickGenerators.NumericManual();
        int first = (int)Math.Floor(min), last = (int)Math.Ceiling(max);
        for (int decade = first; decade <= last; decade++)
        {
            ticks.AddMajor(decade, decade == 0 ? "1" : "1e" + decade.ToString(CultureInfo.InvariantCulture));
            for (int k = 2; k <= 9; k++) ticks.AddMinor(decade + Math.Log10(k));
        }
        return ticks;
    }
}
