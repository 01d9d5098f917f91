using System;
using System.Collections.Generic;
using System.IO;
using TorchSharp;

namespace Lightning.Loggers;

/// <summary>
/// Lightning's <c>TensorBoardLogger</c>, through TorchSharp's <c>SummaryWriter</c>: an event file in the run's folder
/// with one scalar series per metric (x axis: the global step) and the hyperparameters as a text summary
/// (<c>hparams</c>, JSON). Open it with <c>tensorboard --logdir lightning_logs</c>.
/// </summary>
public sealed class TensorBoardLogger : ILightningLogger
{
    private TorchSharp.Modules.SummaryWriter? _writer;

    /// <inheritdoc/>
    public string Name => "tensorboard";

    /// <summary>The folder of the event file, once started.</summary>
    public string? LogDirectory => _writer?.LogDir;

    /// <inheritdoc/>
    public void Start(string logDirectory, IHyperParameters hparams)
    {
        _writer = torch.utils.tensorboard.SummaryWriter(logDirectory);
        _writer.add_text("hparams", HyperParameterJson.ToJson(hparams), 0);
    }

    /// <inheritdoc/>
    public void LogMetrics(IReadOnlyDictionary<string, double> metrics, long step, int epoch)
    {
        var writer = _writer ?? throw new LightningException("TensorBoardLogger.LogMetrics was called before Start.");
        int x = step > int.MaxValue ? int.MaxValue : (int)step;   // TorchSharp's event steps are 32-bit
        foreach (var (name, value) in metrics)
            if (double.IsFinite(value)) writer.add_scalar(name, (float)value, x);
    }

    /// <inheritdoc/>
    public void Finish() { }

    /// <inheritdoc/>
    public void Dispose() => _writer = null;
}
