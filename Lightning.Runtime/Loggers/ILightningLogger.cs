using System;
using System.Collections.Generic;

namespace Lightning.Loggers;

/// <summary>Receives a fit's hyperparameters and metrics (CSV files, TensorBoard event files, plots...).</summary>
public interface ILightningLogger : IDisposable
{
    /// <summary>A short name, e.g. "csv", "tensorboard", "plot".</summary>
    string Name { get; }

    /// <summary>Called once at the start of Fit with the run's directory (<c>&lt;root&gt;/lightning_logs/version_N</c>) and hparams.</summary>
    void Start(string logDirectory, IHyperParameters hparams);

    /// <summary>
    /// Metrics at a step: step-level values (every LogEveryNSteps) and epoch-level means (train and val_*);
    /// <paramref name="step"/> is the trainer's global step, <paramref name="epoch"/> the 0-based epoch.
    /// </summary>
    void LogMetrics(IReadOnlyDictionary<string, double> metrics, long step, int epoch);

    /// <summary>Called at the end of Fit (also after an exception); flush and close files, draw plots.</summary>
    void Finish();
}
