using System;
using System.Globalization;

namespace Lightning.Callbacks;

/// <summary>
/// Stops training when a monitored metric stops improving, as Lightning's <c>EarlyStopping</c>:
/// <c>new EarlyStopping { Monitor = "val_acc", Patience = 3, Mode = MonitorMode.Max }</c>. It checks after each
/// validation run (after each training epoch when there is no validation); training stops before the next epoch.
/// </summary>
public sealed class EarlyStopping : Callback
{
    /// <summary>The metric to watch (required).</summary>
    public string Monitor { get; init; } = "";

    /// <summary>The smallest change that counts as an improvement.</summary>
    public double MinDelta { get; init; }

    /// <summary>Checks without improvement before stopping.</summary>
    public int Patience { get; init; } = 3;

    /// <summary><see cref="MonitorMode.Min"/> (lower is better, the default) or <see cref="MonitorMode.Max"/>.</summary>
    public MonitorMode Mode { get; init; } = MonitorMode.Min;

    /// <summary>Stop when the metric is NaN or infinite.</summary>
    public bool CheckFinite { get; init; } = true;

    /// <summary>Stop as soon as the metric is better than this (e.g. an accuracy of 0.99).</summary>
    public double? StoppingThreshold { get; init; }

    /// <summary>Stop as soon as the metric is worse than this (e.g. a loss that diverged).</summary>
    public double? DivergenceThreshold { get; init; }

    /// <summary>
    /// Check at the end of the training epoch (true) or at the end of each validation run (false). Default (null), as
    /// Lightning's <c>EarlyStopping.setup</c>: at the epoch's end when validation runs once at the end of every epoch (or
    /// there is none), else after each validation run, so an epoch without validation is never checked.
    /// </summary>
    public bool? CheckOnTrainEpochEnd { get; init; }

    private bool _checkOnTrainEpochEnd;

    /// <summary>Checks in a row without improvement.</summary>
    public int WaitCount { get; private set; }

    /// <summary>The best value seen.</summary>
    public double BestScore { get; private set; }

    /// <summary>The epoch (from 0) in which this callback stopped training, or null.</summary>
    public int? StoppedEpoch { get; private set; }

    /// <summary>Why training was stopped, or null.</summary>
    public string? Reason { get; private set; }

    private bool Maximize => Mode == MonitorMode.Max;

    public override void OnFitStart(Trainer trainer, ILightningModule module)
    {
        if (string.IsNullOrWhiteSpace(Monitor)) throw new LightningException("EarlyStopping.Monitor is empty: name the logged metric to watch, e.g. \"val_loss\".");
        if (!Enum.IsDefined(Mode)) throw new LightningException($"EarlyStopping.Mode has the unknown value {(int)Mode}: expected MonitorMode.Min or MonitorMode.Max.");
        if (Patience < 0) throw new LightningException($"EarlyStopping.Patience is {Patience}: expected 0 or more.");
        if (MinDelta < 0) throw new LightningException($"EarlyStopping.MinDelta is {MinDelta}: expected 0 or more (it applies in the direction of Mode).");
        _checkOnTrainEpochEnd = CheckOnTrainEpochEnd ?? (trainer.Options.ValCheckInterval == BatchLimit.All && trainer.Options.CheckValEveryNEpoch == 1);
        WaitCount = 0;
        BestScore = Maximize ? double.NegativeInfinity : double.PositiveInfinity;
        StoppedEpoch = null;
        Reason = null;
    }

    public override void OnValidationEnd(Trainer trainer, ILightningModule module)
    {
        if (!_checkOnTrainEpochEnd) Check(trainer);
    }

    public override void OnTrainEpochEnd(Trainer trainer, ILightningModule module)
    {
        if (_checkOnTrainEpochEnd) Check(trainer);
    }

    private void Check(Trainer trainer)
    {
        if (trainer.Options.FastDevRun > 0 || !trainer.IsFitting) return;
        var reason = Evaluate(trainer.MonitoredMetric(nameof(EarlyStopping), Monitor));
        if (reason is null) return;
        Reason = reason;
        StoppedEpoch = trainer.CurrentEpoch;
        trainer.ShouldStop = true;
    }

    /// <summary>Updates the state with <paramref name="current"/>; returns why to stop, or null to go on.</summary>
    private string? Evaluate(double current)
    {
        var ci = CultureInfo.InvariantCulture;
        if (CheckFinite && !double.IsFinite(current))
            return $"{Monitor} = {current.ToString(ci)} is not finite";
        if (StoppingThreshold is double stop && Better(current, stop))
            return $"{Monitor} = {current.ToString("0.#####", ci)} reached the stopping threshold {stop.ToString(ci)}";
        if (DivergenceThreshold is double diverge && Better(diverge, current))
            return $"{Monitor} = {current.ToString("0.#####", ci)} is worse than the divergence threshold {diverge.ToString(ci)}";

        // An improvement must beat the best by more than MinDelta, in the direction of Mode.
        if (Better(Maximize ? current - MinDelta : current + MinDelta, BestScore))
        {
            BestScore = current;
            WaitCount = 0;
            return null;
        }
        WaitCount++;
        return WaitCount >= Patience
            ? $"{Monitor} did not improve by more than {MinDelta.ToString(ci)} for {WaitCount} checks; best {BestScore.ToString("0.#####", ci)}"
            : null;
    }

    private bool Better(double a, double b) => Maximize ? a > b : a < b;

    public override string? StateKey => $"EarlyStopping{{monitor={Monitor},mode={Mode.ToLightningString()}}}";   // "mode=min": the text of earlier checkpoints

    public override void SaveState(System.Text.Json.Utf8JsonWriter writer)
    {
        writer.WriteStartObject();
        writer.WriteNumber("wait_count", WaitCount);
        if (double.IsFinite(BestScore)) writer.WriteNumber("best_score", BestScore); else writer.WriteNull("best_score");
        writer.WriteNumber("patience", Patience);
        writer.WriteEndObject();
    }

    public override void LoadState(System.Text.Json.JsonElement state, string checkpointPath)
    {
        var key = StateKey!;
        WaitCount = (int)Checkpoints.CheckpointJson.WholeNumber(Checkpoints.CheckpointJson.Required(state, "wait_count", checkpointPath, key), checkpointPath, key + ".wait_count", 0, int.MaxValue);
        double best = state.TryGetProperty("best_score", out var b) ? Checkpoints.CheckpointJson.Number(b, checkpointPath, key + ".best_score", allowNonFinite: true) : double.NaN;
        BestScore = double.IsNaN(best) ? Maximize ? double.NegativeInfinity : double.PositiveInfinity : best;
    }
}
