using System;
using System.Collections.Generic;
using System.Text.Json;
using Lightning.Checkpoints;
using static TorchSharp.torch;

namespace Lightning;

// A training epoch's running values in a mid-epoch checkpoint (Lightning saves its ResultCollection in the loop state for the
// same reason): a fit resumed within an epoch ends that epoch with the same means as a fit that was never stopped.
public sealed partial class MetricStore
{
    /// <summary>The saved accumulators of one logged value (see <see cref="WriteRun"/>).</summary>
    internal sealed record SavedSlot(string Name, bool OnStep, bool OnEpoch, MetricReduction Reduce, bool ProgBar, bool SyncDist,
        double? Device, double? Host, double Count, double Last);

    /// <summary>
    /// Writes the accumulators of run <paramref name="run"/> (the training epoch a mid-epoch checkpoint interrupts) as a JSON
    /// array, one object per logged value. Reads the device once per value; called only when a checkpoint is written.
    /// </summary>
    internal void WriteRun(Utf8JsonWriter w, int run)
    {
        w.WriteStartArray();
        foreach (var s in _order)
        {
            if (s.Run != run) continue;
            w.WriteStartObject();
            w.WriteString("name", s.Name);
            w.WriteBoolean("on_step", s.OnStep);
            w.WriteBoolean("on_epoch", s.OnEpoch);
            w.WriteString("reduce", s.Reduce.ToLightningString());
            w.WriteBoolean("prog_bar", s.ProgBar);
            w.WriteBoolean("sync_dist", s.SyncDist);
            WriteNumber(w, "device", s.HasDeviceValue ? s.Sum!.item<double>() : null);
            WriteNumber(w, "host", s.HasHostValue ? s.HostAcc : null);
            w.WriteNumber("count", s.Count);
            WriteNumber(w, "last", s.Last());
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }

    /// <summary>A number, or null for none (or a value JSON cannot hold: NaN, infinities).</summary>
    private static void WriteNumber(Utf8JsonWriter w, string name, double? value)
    {
        if (value is double d && double.IsFinite(d)) w.WriteNumber(name, d);
        else w.WriteNull(name);
    }

    /// <summary>Reads and checks what <see cref="WriteRun"/> wrote; a bad value is a CheckpointException naming <c>epoch_metrics[i].key</c>.</summary>
    internal static List<SavedSlot> ReadRun(JsonElement saved, string path)
    {
        var slots = new List<SavedSlot>();
        int i = 0;
        foreach (var e in CheckpointJson.Array(saved, path, "epoch_metrics").EnumerateArray())
        {
            var key = $"epoch_metrics[{i++}]";
            CheckpointJson.Object(e, path, key);
            bool Flag(string name)
            {
                var v = CheckpointJson.Required(e, name, path, key + "." + name);
                return v.ValueKind switch
                {
                    JsonValueKind.True => true,
                    JsonValueKind.False => false,
                    _ => throw new CheckpointException(path, $"'{key}.{name}' is {v.ValueKind.ToString().ToLowerInvariant()}; expected true or false"),
                };
            }
            double? Optional(string name)
            {
                double d = CheckpointJson.Number(CheckpointJson.Required(e, name, path, key + "." + name), path, key + "." + name, allowNonFinite: true);
                return double.IsNaN(d) ? null : d;
            }
            var slotName = CheckpointJson.String(CheckpointJson.Required(e, "name", path, key + ".name"), path, key + ".name")!;
            var reduceText = CheckpointJson.String(CheckpointJson.Required(e, "reduce", path, key + ".reduce"), path, key + ".reduce")!;
            if (!LightningSpelling.TryParse(reduceText, out MetricReduction reduce))
                throw new CheckpointException(path, $"'{key}.reduce' is \"{reduceText}\"; expected \"mean\", \"sum\", \"max\" or \"min\"");
            if (slots.Exists(s => s.Name == slotName)) throw new CheckpointException(path, $"'{key}.name' \"{slotName}\" appears twice");
            slots.Add(new SavedSlot(slotName, Flag("on_step"), Flag("on_epoch"), reduce, Flag("prog_bar"), Flag("sync_dist"),
                Optional("device"), Optional("host"),
                CheckpointJson.Number(CheckpointJson.Required(e, "count", path, key + ".count"), path, key + ".count", min: 0),
                Optional("last") ?? double.NaN));
        }
        return slots;
    }

    /// <summary>Gives the current run (the resumed training epoch) the saved accumulators, device values on <paramref name="device"/>.</summary>
    internal void RestoreRun(IReadOnlyList<SavedSlot> saved, Device device)
    {
        foreach (var v in saved)
        {
            var s = Dynamic(v.Name);
            s.Reset(_run, CurrentStage);
            _order.Remove(s);
            _order.Add(s);
            s.OnStep = v.OnStep;
            s.OnEpoch = v.OnEpoch;
            s.Reduce = v.Reduce;
            s.ProgBar = v.ProgBar;
            s.SyncDist = v.SyncDist;
            if (v.Device is double d)
            {
                s.Sum?.Dispose();
                s.Sum = tensor(d, ScalarType.Float64, device).DetachFromDisposeScope();
                s.HasDeviceValue = true;
            }
            if (v.Host is double h)
            {
                s.HostAcc = h;
                s.HasHostValue = true;
            }
            s.Count = v.Count;
            s.LastHost = v.Last;
        }
    }
}
