using System;
using System.Diagnostics;
using System.Globalization;

namespace Lightning.Callbacks;

/// <summary>
/// Tracks the time spent training and stops the fit when <see cref="Duration"/> has passed, as Lightning's <c>Timer</c>
/// (what <see cref="TrainerOptions.MaxTime"/> adds). The elapsed time is saved in checkpoints, so a resumed fit
/// counts the time already spent.
/// </summary>
public sealed class Timer : Callback
{
    private long _startedAt;
    private TimeSpan _before;   // time spent before a resume
    private bool _running;

    /// <summary>The training time after which the fit stops; null only measures.</summary>
    public TimeSpan? Duration { get; init; }

    /// <summary>Check after every batch (<see cref="Lightning.Interval.Step"/>, default) or after every epoch (<see cref="Lightning.Interval.Epoch"/>).</summary>
    public Interval Interval { get; init; } = Interval.Step;

    /// <summary>Time spent training so far.</summary>
    public TimeSpan Elapsed => _before + (_running ? Stopwatch.GetElapsedTime(_startedAt) : TimeSpan.Zero);

    /// <summary>True when this timer stopped the fit.</summary>
    public bool Stopped { get; private set; }

    public override void OnFitStart(Trainer trainer, ILightningModule module)
    {
        if (!Enum.IsDefined(Interval)) throw new LightningException($"Timer.Interval has the unknown value {(int)Interval}: expected Interval.Step or Interval.Epoch.");
        if (Duration is TimeSpan d && d <= TimeSpan.Zero) throw new LightningException($"Timer.Duration must be positive, got {d}.");
        _before = TimeSpan.Zero;
        Stopped = false;
    }

    public override void OnTrainStart(Trainer trainer, ILightningModule module)
    {
        _startedAt = Stopwatch.GetTimestamp();
        _running = true;
    }

    public override void OnTrainEnd(Trainer trainer, ILightningModule module)
    {
        _before = Elapsed;
        _running = false;
    }

    public override void OnTrainBatchEnd(Trainer trainer, ILightningModule module, TorchSharp.torch.Tensor? loss, long batchIdx)
    {
        if (Interval == Interval.Step) Check(trainer);
    }

    public override void OnTrainEpochEnd(Trainer trainer, ILightningModule module) => Check(trainer);

    private void Check(Trainer trainer)
    {
        if (Duration is not TimeSpan limit || Elapsed < limit) return;
        Stopped = true;
        trainer.ShouldStop = true;
    }

    public override string? StateKey => "Timer";

    public override void SaveState(System.Text.Json.Utf8JsonWriter writer)
    {
        writer.WriteStartObject();
        writer.WriteNumber("time_elapsed_seconds", Elapsed.TotalSeconds);
        writer.WriteEndObject();
    }

    public override void LoadState(System.Text.Json.JsonElement state, string checkpointPath)
    {
        double seconds = Checkpoints.CheckpointJson.Number(Checkpoints.CheckpointJson.Required(state, "time_elapsed_seconds", checkpointPath, "Timer"),
            checkpointPath, "Timer.time_elapsed_seconds", 0, TimeSpan.MaxValue.TotalSeconds / 2);
        _before = TimeSpan.FromSeconds(seconds);
    }

    public override string ToString() => Elapsed.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture) + " s";
}
