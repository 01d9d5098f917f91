using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Text;
using TorchSharp;

namespace Lightning.Loggers;

/// <summary>
/// Lightning's <c>TensorBoardLogger</c>, through TorchSharp's <c>torch.utils.tensorboard.SummaryWriter</c>: one event
/// file (<c>events.out.tfevents.*</c>) in the run's folder, a scalar series per metric name with the trainer's global
/// step as x, and the hyperparameters as a text summary named <c>hparams</c> (a Markdown table in TensorBoard's TEXT
/// tab). Open it with <c>tensorboard --logdir lightning_logs</c>.
/// </summary>
/// <remarks>
/// TorchSharp's writer appends and closes the file for every event, so each value is on disk when
/// <see cref="LogMetrics"/> returns. Its API takes 32-bit steps and single-precision values: a step past
/// <see cref="int.MaxValue"/> is written as <see cref="int.MaxValue"/>, and values are rounded to float as TensorBoard
/// stores them anyway. It has no <c>add_hparams</c>, so TensorBoard's HPARAMS tab stays empty.
/// </remarks>
public sealed class TensorBoardLogger : ILightningLogger
{
    /// <summary>The tag of the hyperparameters' text summary.</summary>
    public const string HparamsTag = "hparams";

    private TorchSharp.Modules.SummaryWriter? _writer;

    /// <inheritdoc/>
    public string Name => "tensorboard";

    /// <summary>The folder of the event file, once started.</summary>
    public string? LogDirectory { get; private set; }

    /// <inheritdoc/>
    /// <exception cref="LightningException">The event file cannot be created.</exception>
    public void Start(string logDirectory, IHyperParameters hparams)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(logDirectory);
        ArgumentNullException.ThrowIfNull(hparams);
        Finish();
        try
        {
            _writer = torch.utils.tensorboard.SummaryWriter(logDirectory);
            _writer.add_text(HparamsTag, MarkdownTable(hparams), 0);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new LightningException($"TensorBoardLogger: cannot write an event file in '{logDirectory}' ({e.Message}).", e);
        }
        LogDirectory = logDirectory;
    }

    /// <inheritdoc/>
    /// <exception cref="LightningException">Called before <see cref="Start"/> or after <see cref="Finish"/>, or the file cannot be written.</exception>
    public void LogMetrics(IReadOnlyDictionary<string, double> metrics, long step, int epoch)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        var writer = _writer ?? throw new LightningException(
            LogDirectory is null ? "TensorBoardLogger.LogMetrics was called before Start." : "TensorBoardLogger.LogMetrics was called after Finish; call Start again for a new run.");
        int x = step > int.MaxValue ? int.MaxValue : step < 0 ? 0 : (int)step;
        try
        {
            foreach (var (name, value) in metrics) writer.add_scalar(name, (float)value, x);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new LightningException($"TensorBoardLogger: cannot write the event file in '{LogDirectory}' ({e.Message}).", e);
        }
    }

    /// <summary>Ends the run: later <see cref="LogMetrics"/> calls are refused (every event is already on disk). Calling it again does nothing.</summary>
    public void Finish() => _writer = null;

    /// <summary>Same as <see cref="Finish"/>.</summary>
    public void Dispose() => Finish();

    /// <summary>The hyperparameters as a Markdown table (name, value, description), which TensorBoard's text plugin renders.</summary>
    internal static string MarkdownTable(IHyperParameters hparams)
    {
        var text = new StringBuilder();
        text.Append("| name | value | description |\n|---|---|---|\n");
        foreach (var p in hparams.Values)
            text.Append("| ").Append(Cell(p.Name)).Append(" | ").Append(Cell(Invariant(p.Value))).Append(" | ").Append(Cell(p.Description ?? "")).Append(" |\n");
        return text.ToString();
    }

    private static string Invariant(object? value) => value switch
    {
        null => "null",
        bool b => b ? "true" : "false",
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        float f => f.ToString("R", CultureInfo.InvariantCulture),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };

    /// <summary>A table cell: pipes escaped, line breaks as spaces.</summary>
    private static string Cell(string text) => text.Replace("|", "\\|").Replace("\r", "").Replace("\n", " ");
}
