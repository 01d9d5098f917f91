using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;

namespace Lightning.Loggers;

/// <summary>
/// Draws the logged curves when the fit ends, as one PNG (<c>metrics.png</c> in the run's folder) made with ScottPlot:
/// a panel per metric stem (<c>acc</c>, <c>loss</c>...) in ordinal order, up to <see cref="MaxColumns"/> panels a row,
/// each with its training (<c>loss</c>, <c>train_loss</c>), validation (<c>val_loss</c>) and test series against the
/// 0-based epoch, as in <c>metrics.csv</c>. A series takes the last value logged in each epoch (the epoch mean, or the
/// last validation of the epoch); per-step copies (<c>*_step</c>), <c>*_epoch</c> duplicates and NaN or infinite values
/// are not drawn. Nothing is written when no metric was logged.
/// </summary>
public sealed class PlotLogger : ILightningLogger
{
    /// <summary>The picture's file name in the run's folder.</summary>
    public const string ImageFileName = "metrics.png";

    /// <summary>Fonts tried for the labels, in order; ScottPlot's default when none is installed.</summary>
    private static readonly string[] SansFonts = { "DejaVu Sans", "Liberation Sans", "Noto Sans", "Arial", "Helvetica" };

    private readonly SortedDictionary<string, SortedDictionary<int, double>> _series = new(StringComparer.Ordinal);
    private string? _directory;

    /// <inheritdoc/>
    public string Name => "plot";

    /// <summary>Width of each panel in pixels (at least 100).</summary>
    public int PanelWidth { get; init; } = 480;

    /// <summary>Height of each panel in pixels (at least 100).</summary>
    public int PanelHeight { get; init; } = 320;

    /// <summary>Panels per row; more panels wrap to further rows.</summary>
    public int MaxColumns { get; init; } = 3;

    /// <summary>The PNG written by the last <see cref="Finish"/>, or null before (or when nothing was logged).</summary>
    public string? ImagePath { get; private set; }

    /// <inheritdoc/>
    /// <exception cref="LightningException">A size option is out of range.</exception>
    public void Start(string logDirectory, IHyperParameters hparams)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(logDirectory);
        if (PanelWidth < 100 || PanelHeight < 100)
            throw new LightningException($"PlotLogger: PanelWidth {PanelWidth} x PanelHeight {PanelHeight}: expected at least 100 x 100 pixels.");
        if (MaxColumns < 1) throw new LightningException($"PlotLogger.MaxColumns is {MaxColumns}: expected 1 or more.");
        _directory = logDirectory;
        _series.Clear();
        ImagePath = null;
    }

    /// <inheritdoc/>
    /// <exception cref="LightningException">Called before <see cref="Start"/>.</exception>
    public void LogMetrics(IReadOnlyDictionary<string, double> metrics, long step, int epoch)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        if (_directory is null) throw new LightningException("PlotLogger.LogMetrics was called before Start.");
        foreach (var (name, value) in metrics)
        {
            if (!MetricPanels.IsDrawn(name) || !double.IsFinite(value)) continue;
            if (!_series.TryGetValue(name, out var points)) _series[name] = points = new SortedDictionary<int, double>();
            points[epoch] = value;   // the last value of an epoch wins
        }
    }

    /// <summary>Draws the PNG (replacing it atomically when it exists) and ends the run. Calling it again without a new <see cref="Start"/> does nothing.</summary>
    /// <exception cref="LightningException">The picture cannot be drawn (SkiaSharp's native library did not load) or written.</exception>
    public void Finish()
    {
        var directory = _directory;
        _directory = null;
        if (directory is null || _series.Count == 0) return;
        var path = Path.Combine(directory, ImageFileName);
        byte[] png;
        try
        {
            png = Render();
        }
        catch (Exception e) when (e is DllNotFoundException or TypeInitializationException or BadImageFormatException)
        {
            throw new LightningException(
                "PlotLogger: SkiaSharp's native library could not be loaded, so metrics.png was not drawn (" + e.Message + "). " +
                "On Linux it comes from the SkiaSharp.NativeAssets.Linux.NoDependencies package; remove the PlotLogger to train without it.", e);
        }
        try
        {
            Directory.CreateDirectory(directory);
            AtomicFile.Write(path, stream => stream.Write(png));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new LightningException($"PlotLogger: cannot write '{path}' ({e.Message}).", e);
        }
        ImagePath = path;
    }

    /// <summary>Same as <see cref="Finish"/>: a run that ends by disposal still gets its picture.</summary>
    public void Dispose() => Finish();

    /// <summary>The panels as one PNG image.</summary>
    private byte[] Render()
    {
        var panels = MetricPanels.Group(_series.Keys);
        int columns = Math.Min(panels.Count, MaxColumns);
        int rows = (panels.Count + columns - 1) / columns;
        var font = InstalledSansFont();
        var multiplot = new ScottPlot.Multiplot();
        ScottPlot.IMultiplotExtensions.AddPlots(multiplot, panels.Count);
        multiplot.Layout = new ScottPlot.MultiplotLayouts.Grid(rows, columns);
        for (int i = 0; i < panels.Count; i++)
            DrawPanel(ScottPlot.IMultiplotExtensions.GetPlot(multiplot, i), panels[i], font);
        using var image = ScottPlot.IMultiplotExtensions.Render(multiplot, columns * PanelWidth, rows * PanelHeight);
        return image.GetImageBytes(ScottPlot.ImageFormat.Png, 100);
    }

    private void DrawPanel(ScottPlot.Plot plot, MetricPanel panel, string? font)
    {
        bool rising = false;
        foreach (var name in panel.Series)
        {
            var points = _series[name];
            var scatter = plot.Add.Scatter(points.Keys.Select(e => (double)e).ToArray(), points.Values.ToArray());
            scatter.LegendText = name;
            scatter.MarkerSize = 6;
            if (MetricPanels.Split(name).Stage == 0) rising = points.Values.Last() > points.Values.First();
        }
        plot.Title(panel.Stem);
        plot.XLabel("epoch");
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { IntegerTicksOnly = true };
        // Keep the legend off the curves' end: accuracies rise (legend below), losses fall (legend above).
        plot.ShowLegend(rising ? ScottPlot.Alignment.LowerRight : ScottPlot.Alignment.UpperRight);
        if (font is not null) plot.Font.Set(font);
    }

    /// <summary>The first of <see cref="SansFonts"/> that SkiaSharp finds, or null.</summary>
    internal static string? InstalledSansFont()
    {
        var families = new HashSet<string>(SkiaSharp.SKFontManager.Default.FontFamilies, StringComparer.OrdinalIgnoreCase);
        return SansFonts.FirstOrDefault(families.Contains);
    }
}
