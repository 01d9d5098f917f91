using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;

namespace Lightning.Loggers;

/// <summary>
/// Draws the logged curves at the end of a fit as one PNG (<c>metrics.png</c> in the run's folder) with ScottPlot: a
/// panel per metric (loss, acc...), the training and <c>val_</c> series over epochs in each. Only epoch-level values are
/// drawn (step values, the <c>_step</c> series, would crowd the picture).
/// </summary>
public sealed class PlotLogger : ILightningLogger
{
    private readonly SortedDictionary<string, SortedDictionary<int, double>> _series = new(StringComparer.Ordinal);
    private string? _directory;

    /// <inheritdoc/>
    public string Name => "plot";

    /// <summary>Width of each panel in pixels.</summary>
    public int PanelWidth { get; init; } = 480;

    /// <summary>Height of each panel in pixels.</summary>
    public int PanelHeight { get; init; } = 320;

    /// <summary>The PNG written at the end of the fit, or null before.</summary>
    public string? ImagePath { get; private set; }

    /// <inheritdoc/>
    public void Start(string logDirectory, IHyperParameters hparams)
    {
        _directory = logDirectory;
        _series.Clear();
        ImagePath = null;
    }

    /// <inheritdoc/>
    public void LogMetrics(IReadOnlyDictionary<string, double> metrics, long step, int epoch)
    {
        // Epoch records carry "epoch"; validation runs carry val_ names; step values end in _step.
        foreach (var (name, value) in metrics)
        {
            if (name is "epoch" || name.EndsWith("_step", StringComparison.Ordinal) || name.EndsWith("_epoch", StringComparison.Ordinal)) continue;
            if (!double.IsFinite(value)) continue;
            if (!_series.TryGetValue(name, out var points)) _series[name] = points = new SortedDictionary<int, double>();
            points[epoch + 1] = value;   // the last value of an epoch wins (a validation at its end)
        }
    }

    /// <inheritdoc/>
    public void Finish()
    {
        if (_directory is null || _series.Count == 0) return;
        // A panel per stem: "loss" holds loss / train_loss and val_loss.
        var panels = _series.Keys.GroupBy(Stem).OrderBy(g => g.Key, StringComparer.Ordinal).ToList();
        using var surface = SkiaSharp.SKSurface.Create(new SkiaSharp.SKImageInfo(PanelWidth * panels.Count, PanelHeight))
            ?? throw new LightningException("PlotLogger: SkiaSharp could not create a drawing surface.");
        var canvas = surface.Canvas;
        canvas.Clear(SkiaSharp.SKColors.White);
        for (int i = 0; i < panels.Count; i++)
        {
            var plot = new ScottPlot.Plot();
            foreach (var name in panels[i].OrderBy(n => n.StartsWith("val_", StringComparison.Ordinal) ? 1 : 0))
            {
                var points = _series[name];
                var scatter = plot.Add.Scatter(points.Keys.Select(k => (double)k).ToArray(), points.Values.ToArray());
                scatter.LegendText = name;
            }
            plot.Title(panels[i].Key);
            plot.XLabel("epoch");
            plot.ShowLegend();
            // A plot clears the whole canvas it renders to, so each panel renders alone and is then copied in place.
            using var panelSurface = SkiaSharp.SKSurface.Create(new SkiaSharp.SKImageInfo(PanelWidth, PanelHeight))
                ?? throw new LightningException("PlotLogger: SkiaSharp could not create a drawing surface.");
            plot.Render(panelSurface.Canvas, PanelWidth, PanelHeight);
            using var panelImage = panelSurface.Snapshot();
            canvas.DrawImage(panelImage, i * PanelWidth, 0);
        }
        var path = Path.Combine(_directory, "metrics.png");
        using (var image = surface.Snapshot())
        using (var png = image.Encode(SkiaSharp.SKEncodedImageFormat.Png, 100))
        using (var file = File.Create(path))
            png.SaveTo(file);
        ImagePath = path;
    }

    /// <inheritdoc/>
    public void Dispose() { }

    private static string Stem(string name) =>
        name.StartsWith("val_", StringComparison.Ordinal) ? name["val_".Length..]
        : name.StartsWith("train_", StringComparison.Ordinal) ? name["train_".Length..]
        : name;
}
