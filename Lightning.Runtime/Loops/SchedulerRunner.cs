using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text.Json;
using TorchSharp;
using static TorchSharp.torch.optim.lr_scheduler;


namespace Lightning.Loops;

/// <summary>
/// Steps a module's learning-rate scheduler at its interval and frequency, and feeds a <c>ReduceLROnPlateau</c> its
/// monitored metric. TorchSharp's schedulers have no state dict, so the state saved in checkpoints is the history of
/// steps (a count, and the metric values a plateau scheduler saw); resuming replays it, which rebuilds the exact
/// internal state of any scheduler.
/// </summary>
internal sealed class SchedulerRunner
{
    private readonly MetricBoard _metrics;
    private readonly Optimization _optimization;
    private readonly List<double> _plateauValues = new();

    public SchedulerRunner(MetricBoard metrics, Optimization optimization, string moduleName)
    {
        _metrics = metrics;
        _optimization = optimization;
        if (optimization.Frequency < 1)
            throw new LightningException($"{moduleName}'s [ConfigureOptimizers] returned an Optimization with Frequency = {optimization.Frequency}: expected 1 or more.");
        if (IsPlateau && string.IsNullOrWhiteSpace(optimization.Monitor))
            throw new LightningException(
                $"{moduleName}'s [ConfigureOptimizers] returned a ReduceLROnPlateau scheduler without a Monitor: set the logged metric it watches, " +
                "e.g. new Optimization(optimizer, scheduler) { Monitor = \"val_loss\" }.");
    }

    private LRScheduler? Scheduler => _optimization.Scheduler;

    private bool IsPlateau => _optimization.Scheduler is impl.ReduceLROnPlateau;

    /// <summary>Scheduler steps taken so far in this fit (including replayed ones).</summary>
    public int Steps { get; private set; }

    /// <summary>
    /// After each optimizer step (<see cref="Interval.Step"/>) at training batch <paramref name="batchIdx"/> of the
    /// epoch: every <see cref="Optimization.Frequency"/> batches counted within the epoch, as Lightning's
    /// <c>_update_learning_rates</c> (<c>(batch_idx + 1) % frequency == 0</c>, only on batches where the optimizer steps).
    /// </summary>
    public void AfterOptimizerStep(long batchIdx)
    {
        if (Scheduler is not null && _optimization.Interval == Interval.Step && (batchIdx + 1) % _optimization.Frequency == 0) Step();
    }

    /// <summary>
    /// After the last training batch of epoch <paramref name="epoch"/> (from 0), before its validation: an epoch-interval
    /// scheduler other than <c>ReduceLROnPlateau</c> steps here, so the epoch's checkpoint holds its step (Lightning's
    /// <c>update_lr_schedulers("epoch", update_plateau_schedulers=False)</c> in <c>TrainingEpochLoop.advance</c>).
    /// </summary>
    public void AfterEpochBatches(int epoch)
    {
        if (!IsPlateau && EpochDue(epoch)) Step();
    }

    /// <summary>
    /// After the epoch's <c>OnTrainEpochEnd</c> hooks: a <c>ReduceLROnPlateau</c> steps here, once the metric it monitors has
    /// been logged (Lightning's <c>FitLoop.on_advance_end</c>).
    /// </summary>
    public void AfterEpochEnd(int epoch)
    {
        if (IsPlateau && EpochDue(epoch)) Step();
    }

    private bool EpochDue(int epoch) =>
        Scheduler is not null && _optimization.Interval == Interval.Epoch && (epoch + 1) % _optimization.Frequency == 0;

    private void Step()
    {
        if (Scheduler is impl.ReduceLROnPlateau plateau)
        {
            double value = _metrics.Monitored("ReduceLROnPlateau", _optimization.Monitor!);
            plateau.step(value);
            _plateauValues.Add(value);
        }
        else Scheduler!.step();
        Steps++;
    }

    /// <summary>Writes the step history: <c>{"steps": n, "plateau_values": [...]}</c>.</summary>
    public void SaveState(Utf8JsonWriter writer)
    {
        writer.WriteStartObject();
        writer.WriteNumber("steps", Steps);
        // Files written since epoch-interval schedulers step at the epoch's last batch (older files stepped after OnTrainEpochEnd).
        writer.WriteBoolean("epoch_step_at_last_batch", true);
        writer.WriteStartArray("plateau_values");
        foreach (var v in _plateauValues)
        {
            if (double.IsFinite(v)) writer.WriteNumberValue(v); else writer.WriteNullValue();   // JSON has no NaN; null reads back as NaN
        }
        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    /// <summary>
    /// Replays a saved step history on the fresh scheduler of a resumed fit. The count is checked against the loop
    /// position first: a scheduler steps at most once per <see cref="Optimization.Frequency"/> optimizer steps or ended
    /// epochs, so a count beyond that is a damaged file (and is not replayed, which could take for ever).
    /// </summary>
    public void Replay(JsonElement state, string checkpointPath, Checkpoints.LoopPosition position)
    {
        const string key = "scheduler";
        if (Scheduler is null && state.ValueKind == JsonValueKind.Object && state.TryGetProperty("steps", out var saved) && saved.ValueKind == JsonValueKind.Number
            && saved.TryGetInt64(out long savedSteps) && savedSteps > 0)
            throw new Checkpoints.CheckpointException(checkpointPath, $"it was saved with a learning-rate scheduler ({savedSteps} steps), but [ConfigureOptimizers] now returns none");
        // A step-interval scheduler steps at most once per optimizer step, an epoch-interval one once per Frequency ended epochs.
        long most = _optimization.Interval == Interval.Step ? position.GlobalStep : (position.Epoch + 1L) / _optimization.Frequency;
        int steps = (int)Checkpoints.CheckpointJson.WholeNumber(Checkpoints.CheckpointJson.Required(state, "steps", checkpointPath, key),
            checkpointPath, key + ".steps", 0, Scheduler is null ? 0 : System.Math.Min(most, int.MaxValue));
        var values = new List<double>();
        if (state.TryGetProperty("plateau_values", out var array))
            foreach (var v in Checkpoints.CheckpointJson.Array(array, checkpointPath, key + ".plateau_values").EnumerateArray())
                values.Add(Checkpoints.CheckpointJson.Number(v, checkpointPath, key + ".plateau_values[]", allowNonFinite: true));
        if (Scheduler is impl.ReduceLROnPlateau plateau)
        {
            if (values.Count != steps)
                throw new Checkpoints.CheckpointException(checkpointPath,
                    $"its scheduler state has {values.Count} plateau values for {steps} steps, but the scheduler is a ReduceLROnPlateau");
            foreach (var v in values) { plateau.step(v); _plateauValues.Add(v); }
        }
        else
        {
            if (values.Count != 0)
                throw new Checkpoints.CheckpointException(checkpointPath, $"its scheduler state has {values.Count} plateau values, but the scheduler is not a ReduceLROnPlateau");
            for (int i = 0; i < steps; i++) Scheduler!.step();
        }
        Steps = steps;
        // An older file written at the end of an epoch's validation lacks that epoch's step, which now comes before it.
        bool newOrder = state.TryGetProperty("epoch_step_at_last_batch", out var order) && order.ValueKind == JsonValueKind.True;
        if (!newOrder && position.EpochFinished && !position.EpochEndDone) AfterEpochBatches(position.Epoch);
    }

    /// <summary>The learning rate of each parameter group now.</summary>
    public IReadOnlyList<double> LearningRates() => _optimization.Optimizer.ParamGroups.Select(g => g.LearningRate).ToList();

    public override string ToString() => Steps.ToString(CultureInfo.InvariantCulture);
}
