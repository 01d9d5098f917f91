using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using CsvHelper;
using Lightning.Loggers;

namespace Lightning.Profiling;

/// <summary>The actions every profiled fit has, indexed directly (no string or dictionary per batch).</summary>
internal enum ProfilerAction
{
    /// <summary>From the end of ShouldRunBatch to the batch's first device transfer: the loader's MoveNext.</summary>
    TrainDataloaderNext,
    /// <summary>From the first <see cref="BatchTransfer.Move"/> of a training batch to OnBatchStart.</summary>
    BatchToDevice,
    /// <summary>The training step (forward, loss, Log): after the batch-start hooks, until backward (or the batch's end).</summary>
    TrainingStep,
    /// <summary><c>loss.backward()</c>, without the backward hooks.</summary>
    Backward,
    /// <summary>Gradient all-reduce (ddp), clipping and <c>optimizer.step()</c>, without the hooks.</summary>
    OptimizerStep,
    /// <summary><c>optimizer.zero_grad()</c>.</summary>
    OptimizerZeroGrad,
    /// <summary>The progress bar's update after each training batch.</summary>
    ProgressBarUpdate,
    /// <summary>A training batch from the training step to the end of the optimizer step (Lightning's run_training_batch).</summary>
    RunTrainingBatch,
    /// <summary>An epoch's training batches, validation within the epoch included.</summary>
    RunTrainingEpoch,
    /// <summary>The sanity check's validation batches.</summary>
    RunSanityCheck,
    /// <summary>A validation run of the fit, its hooks and loggers included.</summary>
    RunValidation,
    /// <summary><see cref="Trainer.SaveCheckpoint"/>: building the state and writing the file.</summary>
    SaveCheckpoint,
}

/// <summary>One row of a profile: an action, how often it ran and how long it took in all.</summary>
/// <param name="Action">Lightning's name of the action, e.g. <c>[Strategy]SingleDeviceStrategy.backward</c>.</param>
/// <param name="Calls">How many times it ran.</param>
/// <param name="Total">Its time summed over the calls.</param>
/// <param name="Share">Its total as a fraction of the fit's time (0.25 = 25%); actions that contain others (run_training_epoch) overlap them.</param>
public sealed record ProfileEntry(string Action, long Calls, TimeSpan Total, double Share)
{
    /// <summary>The mean time of one call.</summary>
    public TimeSpan Mean => Calls == 0 ? TimeSpan.Zero : Total / Calls;
}

/// <summary>
/// Lightning's <c>SimpleProfiler</c> (src/lightning/pytorch/profilers/simple.py): records how long each action of a fit takes and
/// reports, per action, the number of calls, the mean, the total and its share of the fit, sorted by total. Actions are named as
/// Lightning names them (<c>[_TrainingEpochLoop].train_dataloader_next</c>, <c>[Strategy]SingleDeviceStrategy.backward</c>,
/// <c>[Callback]ModelCheckpoint{...}.on_train_epoch_end</c>, <c>run_training_epoch</c>, <c>save_checkpoint</c>). A fit with
/// <see cref="TrainerOptions.Profiler"/> = <see cref="ProfilerKind.Simple"/> has one; <see cref="Trainer.Profiler"/> gives it.
/// Timestamps are <see cref="Stopwatch.GetTimestamp"/>; the fixed actions are array slots and each callback hook gets its slot
/// once, so a profiled batch costs a few dozen timestamps and no allocation.
/// </summary>
public sealed class SimpleProfiler
{
    private readonly Dictionary<string, int> _ids = new(StringComparer.Ordinal);
    private readonly List<string> _names = new();
    private long[] _calls = new long[32];
    private long[] _ticks = new long[32];
    private long _start;
    private long _end;

    // The training batch being profiled: when its fetch began, its first transfer, when its training step began.
    private long _fetchStart;
    private long _firstMove;
    private long _stepStart;
    private bool _stepTimed;

    internal SimpleProfiler(string moduleName, bool distributed)
    {
        // Lightning's names: TrainingEpochLoop's data fetcher, the strategy's hooks (call._call_strategy_hook), the loops' profile() blocks.
        string strategy = "[Strategy]" + (distributed ? "DDPStrategy" : "SingleDeviceStrategy");
        string module = "[LightningModule]" + ShortName(moduleName);
        foreach (var name in new[]
        {
            "[_TrainingEpochLoop].train_dataloader_next",
            strategy + ".batch_to_device",
            strategy + ".training_step",
            strategy + ".backward",
            module + ".optimizer_step",
            module + ".optimizer_zero_grad",
            "[ProgressBar].update",
            "run_training_batch",
            "run_training_epoch",
            "run_sanity_check",
            "run_validation",
            "save_checkpoint",
        })
            Register(name);
        ModuleName = ShortName(moduleName);
    }

    /// <summary>The module's class name without its namespace, as Lightning's <c>[LightningModule]Foo</c>.</summary>
    internal string ModuleName { get; }

    /// <summary>The id of the action <paramref name="name"/>, registered on first use (once per callback hook, not per call).</summary>
    internal int Register(string name)
    {
        if (_ids.TryGetValue(name, out int id)) return id;
        id = _names.Count;
        _names.Add(name);
        _ids.Add(name, id);
        if (id == _calls.Length)
        {
            Array.Resize(ref _calls, id * 2);
            Array.Resize(ref _ticks, id * 2);
        }
        return id;
    }

    /// <summary>A timestamp (<see cref="Stopwatch.GetTimestamp"/>).</summary>
    internal static long Now() => Stopwatch.GetTimestamp();

    /// <summary>One call of <paramref name="action"/> that began at <paramref name="start"/> and ends now.</summary>
    internal void Add(ProfilerAction action, long start) => Add((int)action, start);

    /// <summary>One call of action <paramref name="id"/> that began at <paramref name="start"/> and ends now.</summary>
    internal void Add(int id, long start) => AddTicks(id, Stopwatch.GetTimestamp() - start);

    /// <summary>One call of <paramref name="action"/> that took <paramref name="ticks"/>.</summary>
    internal void AddTicks(ProfilerAction action, long ticks) => AddTicks((int)action, ticks);

    internal void AddTicks(int id, long ticks)
    {
        _calls[id]++;
        _ticks[id] += ticks;
    }

    /// <summary>The fit starts: the total runs from here to <see cref="Stop"/>.</summary>
    internal void Start() => _start = Stopwatch.GetTimestamp();

    /// <summary>The fit ended: the total is fixed.</summary>
    internal void Stop() => _end = Stopwatch.GetTimestamp();

    // ---------------------------------------------------------------- a training batch (TrainingLoop and BatchTransfer call these)

    /// <summary>ShouldRunBatch returned true: the batch's fetch begins.</summary>
    internal void BeginFetch()
    {
        _fetchStart = Stopwatch.GetTimestamp();
        _firstMove = 0;
    }

    /// <summary>A tensor of the batch is moved to the device; the first one ends the fetch.</summary>
    internal void MarkTransfer()
    {
        if (_firstMove == 0 && _fetchStart != 0) _firstMove = Stopwatch.GetTimestamp();
    }

    /// <summary>OnBatchStart: the fetch and the transfer of the batch end.</summary>
    internal void EndFetch()
    {
        long now = Stopwatch.GetTimestamp();
        if (_fetchStart == 0) return;
        long moved = _firstMove == 0 ? now : _firstMove;
        AddTicks(ProfilerAction.TrainDataloaderNext, moved - _fetchStart);
        AddTicks(ProfilerAction.BatchToDevice, now - moved);
        _fetchStart = 0;
    }

    /// <summary>The batch-start hooks ran: the training step begins.</summary>
    internal void BeginStep()
    {
        _stepStart = Stopwatch.GetTimestamp();
        _stepTimed = false;
    }

    /// <summary>The training step returned (at backward, or at the batch's end when it returned null or optimizes manually).</summary>
    internal void EndStep()
    {
        if (_stepTimed || _stepStart == 0) return;
        _stepTimed = true;
        Add(ProfilerAction.TrainingStep, _stepStart);
    }

    /// <summary>The batch's end (before its end hooks): the training step (if not yet ended) and run_training_batch.</summary>
    internal void EndBatch()
    {
        if (_stepStart == 0) return;
        EndStep();
        Add(ProfilerAction.RunTrainingBatch, _stepStart);
        _stepStart = 0;
    }

    // ---------------------------------------------------------------- the report

    /// <summary>The fit's time: from the start of its loop to the end of its loggers (or until now, while it runs).</summary>
    public TimeSpan Total => Stopwatch.GetElapsedTime(_start, _end == 0 ? Stopwatch.GetTimestamp() : _end);

    /// <summary>The actions that ran, the longest total first (Lightning's extended report order).</summary>
    public IReadOnlyList<ProfileEntry> Entries
    {
        get
        {
            double total = Total.Ticks;
            var entries = new List<ProfileEntry>();
            for (int id = 0; id < _names.Count; id++)
            {
                if (_calls[id] == 0) continue;
                var time = TimeSpan.FromSeconds(_ticks[id] / (double)Stopwatch.Frequency);
                entries.Add(new ProfileEntry(_names[id], _calls[id], time, total > 0 ? time.Ticks / total : 0));
            }
            return entries.OrderByDescending(e => e.Total).ThenBy(e => e.Action, StringComparer.Ordinal).ToList();
        }
    }

    /// <summary>The number of calls of <paramref name="action"/> (0 when it never ran).</summary>
    public long Calls(string action) => _ids.TryGetValue(action, out int id) ? _calls[id] : 0;

    /// <summary>
    /// The report, as Lightning's <c>SimpleProfiler.summary()</c> with <c>extended=True</c>: a "Total" row (all calls, the fit's
    /// time, 100 %), then each action with its mean and total in seconds, calls and percentage of the fit, the longest first.
    /// </summary>
    public string Summary()
    {
        var entries = Entries;
        var rows = new List<string[]> { new[] { "Total", "-", entries.Sum(e => e.Calls).ToString(CultureInfo.InvariantCulture), Seconds(Total), "100 %" } };
        rows.AddRange(entries.Select(e => new[]
        {
            e.Action, Seconds(e.Mean), e.Calls.ToString(CultureInfo.InvariantCulture), Seconds(e.Total),
            (e.Share * 100).ToString("0.000", CultureInfo.InvariantCulture),
        }));
        var header = new[] { "Action", "Mean duration (s)", "Num calls", "Total time (s)", "Percentage %" };
        var widths = header.Select((h, i) => rows.Select(r => r[i].Length).Append(h.Length).Max()).ToArray();
        string Line(string[] cells) => "|  " + string.Join("  |  ", cells.Select((c, i) => i == 0 ? c.PadRight(widths[i]) : c.PadLeft(widths[i]))) + "  |";
        var rule = new string('-', Line(header).Length);
        var sb = new StringBuilder();
        sb.AppendLine("FIT Profiler Report").AppendLine(rule).AppendLine(Line(header)).AppendLine(rule);
        sb.AppendLine(Line(rows[0])).AppendLine(rule);
        foreach (var row in rows.Skip(1)) sb.AppendLine(Line(row));
        sb.AppendLine(rule);
        return sb.ToString();
    }

    /// <summary>The report as CSV (<c>action,mean_s,num_calls,total_s,percentage</c>; the "Total" row first, mean empty), written atomically.</summary>
    public void WriteCsv(string path)
    {
        var options = CsvWriterOptions.Default with { FormatProvider = CultureInfo.InvariantCulture, Injection = CsvInjection.None };
        var entries = Entries;
        AtomicFile.Write(path, stream =>
        {
            using var csv = CsvWriter.Create(stream, options, leaveOpen: true);
            csv.WriteHeader(new[] { "action", "mean_s", "num_calls", "total_s", "percentage" });
            Row("Total", "", entries.Sum(e => e.Calls), Total, 100);
            foreach (var e in entries) Row(e.Action, Number(e.Mean.TotalSeconds), e.Calls, e.Total, e.Share * 100);
            csv.Flush();

            void Row(string action, string mean, long calls, TimeSpan total, double percentage)
            {
                csv.WriteField(action);
                csv.WriteField(mean);
                csv.WriteField(calls.ToString(CultureInfo.InvariantCulture));
                csv.WriteField(Number(total.TotalSeconds));
                csv.WriteField(Number(percentage));
                csv.EndRecord();
            }
        });
    }

    /// <summary>Seconds with 5 significant digits, as Lightning's <c>f"{x:.5}"</c>.</summary>
    private static string Seconds(TimeSpan time) => time.TotalSeconds.ToString("G5", CultureInfo.InvariantCulture).Replace("E", "e", StringComparison.Ordinal);

    private static string Number(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    private static string ShortName(string typeName)
    {
        int dot = typeName.LastIndexOf('.');
        return dot < 0 ? typeName : typeName[(dot + 1)..];
    }
}
