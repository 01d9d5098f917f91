using System.Collections.Generic;
using System.Globalization;
using System.Linq;

namespace Lightning.Callbacks;

/// <summary>
/// Logs the optimizer's learning rate, as Lightning's <c>LearningRateMonitor</c>: <c>lr-Adam</c> (or <c>lr-Adam/pg1</c>,
/// <c>lr-Adam/pg2</c>... with several parameter groups) at the start of each epoch, or after every optimizer step with
/// <see cref="LoggingInterval"/> <see cref="Interval.Step"/>. The values go to the loggers and to <see cref="Trainer.CallbackMetrics"/>.
/// </summary>
public sealed class LearningRateMonitor : Callback
{
    private long _lastStep = -1;

    /// <summary><see cref="Interval.Epoch"/> (default) or <see cref="Interval.Step"/>.</summary>
    public Interval LoggingInterval { get; init; } = Interval.Epoch;

    /// <summary>Every learning rate logged, in order, with the step it was logged at.</summary>
    public List<(long Step, string Name, double Value)> Logged { get; } = new();

    public override void OnFitStart(Trainer trainer, ILightningModule module)
    {
        if (!System.Enum.IsDefined(LoggingInterval))
            throw new LightningException($"LearningRateMonitor.LoggingInterval has the unknown value {(int)LoggingInterval}: expected Interval.Epoch or Interval.Step.");
        Logged.Clear();
        _lastStep = -1;
    }

    public override void OnTrainEpochStart(Trainer trainer, ILightningModule module)
    {
        if (LoggingInterval == Interval.Epoch) Log(trainer);
    }

    public override void OnTrainBatchStart(Trainer trainer, ILightningModule module, long batchIdx)
    {
        // Lightning logs step learning rates before the step that uses them.
        if (LoggingInterval == Interval.Step && trainer.GlobalStep != _lastStep) Log(trainer);
    }

    private void Log(Trainer trainer)
    {
        var optimizer = trainer.Optimizer;
        if (optimizer is null) return;
        _lastStep = trainer.GlobalStep;
        var groups = optimizer.ParamGroups.ToList();
        var name = "lr-" + optimizer.GetType().Name;
        var values = new Dictionary<string, double>(System.StringComparer.Ordinal);
        for (int i = 0; i < groups.Count; i++)
            values[groups.Count == 1 ? name : name + "/pg" + (i + 1).ToString(CultureInfo.InvariantCulture)] = groups[i].LearningRate;
        foreach (var (key, value) in values) Logged.Add((trainer.GlobalStep, key, value));
        trainer.LogMetrics(values);
    }
}
