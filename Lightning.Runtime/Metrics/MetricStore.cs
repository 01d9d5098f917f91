using System;
using System.Collections.Generic;
using TorchSharp;
using static TorchSharp.torch;

namespace Lightning;

/// <summary>
/// The values a module logs with <c>Log(name, value)</c>. The generator gives every constant key a slot
/// number, so logging is an array access; keys that are not constants fall back to a dictionary.
/// Tensor values are summed on their device, weighted by batch size, so logging never waits for the
/// device; a value is copied to the host only when the progress bar or the epoch summary reads it.
/// </summary>
public sealed class MetricStore
{
    private readonly MetricSlot[] _slots;
    private readonly List<MetricSlot> _order = new();
    private Dictionary<string, MetricSlot>? _dynamic;
    private int _run;
    private int _lastRun;
    private long _batchSize = 1;
    private Scalar? _batchSizeScalar;

    /// <summary>Creates a store with one slot per constant key, in slot order.</summary>
    public MetricStore(params string[] constantKeys)
    {
        _slots = new MetricSlot[constantKeys.Length];
        for (int i = 0; i < constantKeys.Length; i++) _slots[i] = new MetricSlot(constantKeys[i]);
    }

    /// <summary>The stage of the loop that is running; logged values belong to it.</summary>
    public Stage CurrentStage { get; private set; }

    /// <summary>True while a training loop runs (as opposed to validation, test or predict).</summary>
    public bool IsTraining { get; private set; }

    /// <summary>Logs a tensor value (a scalar) into slot <paramref name="slot"/>, or by name when the slot is -1.</summary>
    public void Log(int slot, string name, Tensor value, bool progBar)
    {
        if (value is null) throw new ArgumentNullException(nameof(value), $"Log(\"{name}\"): the value is null.");
        if (value.numel() != 1)
            throw new LightningException($"Log(\"{name}\"): expected a scalar tensor, got shape [{string.Join(", ", value.shape)}]. Reduce it first, e.g. with .mean().");
        var s = Begin(slot, name, progBar);
        var v = value.detach();
        if (s.Sum is null || s.Sum.device_type != v.device_type || s.Sum.device_index != v.device_index)
        {
            s.Sum?.Dispose();
            s.Sum = zeros(Array.Empty<long>(), ScalarType.Float64, v.device).DetachFromDisposeScope();
        }
        if (v.dim() != 0) v = v.reshape(Array.Empty<long>());
        s.Sum.add_(v, BatchSizeScalar());
        // Keep the last value (a view, no copy) past this step's scope, so the progress bar can read it later.
        s.LastTensor?.Dispose();
        s.LastTensor = v.DetachFromDisposeScope();
        s.LastHost = double.NaN;
    }

    /// <summary>Logs a host value into slot <paramref name="slot"/>, or by name when the slot is -1.</summary>
    public void Log(int slot, string name, double value, bool progBar)
    {
        var s = Begin(slot, name, progBar);
        s.HostSum += value * _batchSize;
        s.LastTensor?.Dispose();
        s.LastTensor = null;
        s.LastHost = value;
    }

    private MetricSlot Begin(int slot, string name, bool progBar)
    {
        var s = slot >= 0 ? _slots[slot] : Dynamic(name);
        if (s.Run != _run)
        {
            s.Reset(_run, CurrentStage);
            _order.Remove(s);
            _order.Add(s);
        }
        s.ProgBar |= progBar;
        s.Count += _batchSize;
        return s;
    }

    private MetricSlot Dynamic(string name)
    {
        _dynamic ??= new Dictionary<string, MetricSlot>(StringComparer.Ordinal);
        if (!_dynamic.TryGetValue(name, out var s))
        {
            int i = Array.FindIndex(_slots, x => x.Name == name);
            s = i >= 0 ? _slots[i] : new MetricSlot(name);
            _dynamic.Add(name, s);
        }
        return s;
    }

    private Scalar BatchSizeScalar() => _batchSizeScalar ??= _batchSize.ToScalar();

    /// <summary>Starts a new loop run (a training epoch, a validation pass...): values logged from now on start from zero.</summary>
    internal int BeginRun(Stage stage, bool training)
    {
        _run = ++_lastRun;
        CurrentStage = stage;
        IsTraining = training;
        return _run;
    }

    /// <summary>
    /// Goes back to run <paramref name="run"/> (from <see cref="BeginRun"/>) after another run interrupted it, e.g. the
    /// training epoch after a validation within the epoch: its values keep accumulating where they were.
    /// </summary>
    internal void ContinueRun(int run, Stage stage, bool training)
    {
        _run = run;
        CurrentStage = stage;
        IsTraining = training;
    }

    /// <summary>The last value of every metric logged in the current run, named <c>name_step</c> (reads the device once per metric).</summary>
    internal void StepValues(Dictionary<string, double> into)
    {
        foreach (var s in _order)
            if (s.Run == _run) into[s.Name + "_step"] = s.Last();
    }

    /// <summary>Starts a step over a batch of <paramref name="batchSize"/> samples.</summary>
    internal void BeginStep(long batchSize)
    {
        if (batchSize != _batchSize)
        {
            _batchSize = batchSize;
            _batchSizeScalar?.Dispose();
            _batchSizeScalar = null;
        }
    }

    /// <summary>The mean of every value logged in the current run, weighted by batch size (reads the device once per metric).</summary>
    internal List<KeyValuePair<string, double>> RunMeans()
    {
        var result = new List<KeyValuePair<string, double>>();
        foreach (var s in _order)
            if (s.Run == _run) result.Add(new(s.Name, s.Mean()));
        return result;
    }

    /// <summary>
    /// The values to show on the progress bar: during training the value of the last step, during evaluation
    /// the running mean.
    /// </summary>
    internal void ProgressBarValues(List<KeyValuePair<string, double>> into)
    {
        foreach (var s in _order)
        {
            if (s.Run != _run || !s.ProgBar) continue;
            into.Add(new(s.Name, IsTraining ? s.Last() : s.Mean()));
        }
    }

    /// <summary>True when some value of the current run asked for the progress bar.</summary>
    internal bool HasProgressBarValues
    {
        get
        {
            foreach (var s in _order) if (s.Run == _run && s.ProgBar) return true;
            return false;
        }
    }

    private sealed class MetricSlot(string name)
    {
        public readonly string Name = name;
        public int Run = -1;
        public Stage Stage;
        public bool ProgBar;
        public Tensor? Sum;
        public double HostSum;
        public double Count;
        public Tensor? LastTensor;   // the last tensor value, read (and released) when the progress bar needs it
        public double LastHost = double.NaN;

        public void Reset(int run, Stage stage)
        {
            Run = run;
            Stage = stage;
            ProgBar = false;
            Sum?.zero_();
            HostSum = 0;
            Count = 0;
            LastTensor?.Dispose();
            LastTensor = null;
            LastHost = double.NaN;
        }

        public double Mean() => Count == 0 ? double.NaN : ((Sum is null ? 0 : Sum.item<double>()) + HostSum) / Count;

        public double Last()
        {
            if (LastTensor is not null)
            {
                LastHost = LastTensor.ToDouble();
                LastTensor.Dispose();
                LastTensor = null;
            }
            return LastHost;
        }
    }
}
