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
public sealed partial class MetricStore
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

    /// <summary>
    /// Logs a tensor value (a scalar) into slot <paramref name="slot"/>, or by name when the slot is -1. As Lightning's
    /// <c>self.log</c>: <paramref name="onStep"/> keeps the value of each step (for the progress bar and loggers),
    /// <paramref name="onEpoch"/> reduces the run's values with <paramref name="reduce"/> (<see cref="MetricReduction.Mean"/> weighted by batch size,
    /// Sum, Max, Min); null takes Lightning's default for the loop: steps in training, epochs in evaluation.
    /// </summary>
    public void Log(int slot, string name, Tensor value, bool progBar, bool? onStep = null, bool? onEpoch = null, MetricReduction reduce = MetricReduction.Mean, bool syncDist = false)
    {
        if (value is null) throw new ArgumentNullException(nameof(value), $"Log(\"{name}\"): the value is null.");
        if (value.numel() != 1)
            throw new LightningException($"Log(\"{name}\"): expected a scalar tensor, got shape [{string.Join(", ", value.shape)}]. Reduce it first, e.g. with .mean().");
        var s = Begin(slot, name, progBar, onStep, onEpoch, reduce, syncDist);
        var v = value.detach();
        if (v.dim() != 0) v = v.reshape(Array.Empty<long>());
        if (s.OnEpoch)
        {
            if (s.Sum is not null && (s.Sum.device_type != v.device_type || s.Sum.device_index != v.device_index))
            {
                s.Sum.Dispose();
                s.Sum = null;
            }
            switch (s.Reduce)
            {
                case MetricReduction.Mean:
                    s.Sum ??= zeros(Array.Empty<long>(), ScalarType.Float64, v.device).DetachFromDisposeScope();
                    s.Sum.add_(v, BatchSizeScalar());
                    break;
                case MetricReduction.Sum:
                    s.Sum ??= zeros(Array.Empty<long>(), ScalarType.Float64, v.device).DetachFromDisposeScope();
                    s.Sum.add_(v);
                    break;
                default:
                    if (!s.HasDeviceValue) (s.Sum ??= zeros(Array.Empty<long>(), ScalarType.Float64, v.device).DetachFromDisposeScope()).copy_(v);
                    else if (s.Reduce == MetricReduction.Max) s.Sum!.copy_(s.Sum.maximum(v.to_type(ScalarType.Float64)));
                    else s.Sum!.copy_(s.Sum.minimum(v.to_type(ScalarType.Float64)));
                    break;
            }
            s.HasDeviceValue = true;
        }
        // Keep the last value (a view, no copy) past this step's scope, so the progress bar can read it later.
        s.LastTensor?.Dispose();
        s.LastTensor = v.DetachFromDisposeScope();
        s.LastHost = double.NaN;
    }

    /// <summary>Logs a host value into slot <paramref name="slot"/>, or by name when the slot is -1 (see the tensor overload).</summary>
    public void Log(int slot, string name, double value, bool progBar, bool? onStep = null, bool? onEpoch = null, MetricReduction reduce = MetricReduction.Mean, bool syncDist = false)
    {
        var s = Begin(slot, name, progBar, onStep, onEpoch, reduce, syncDist);
        if (s.OnEpoch)
        {
            s.HostAcc = s.Reduce switch
            {
                MetricReduction.Mean => s.HostAcc + value * _batchSize,
                MetricReduction.Sum => s.HostAcc + value,
                MetricReduction.Max => s.HasHostValue ? Math.Max(s.HostAcc, value) : value,
                _ => s.HasHostValue ? Math.Min(s.HostAcc, value) : value,
            };
            s.HasHostValue = true;
        }
        s.LastTensor?.Dispose();
        s.LastTensor = null;
        s.LastHost = value;
    }

    private MetricSlot Begin(int slot, string name, bool progBar, bool? onStep, bool? onEpoch, MetricReduction reduce, bool syncDist)
    {
        var s = slot >= 0 ? _slots[slot] : Dynamic(name);
        if (s.Run != _run)
        {
            s.Reset(_run, CurrentStage);
            _order.Remove(s);
            _order.Add(s);
            s.OnStep = onStep ?? IsTraining;
            s.OnEpoch = onEpoch ?? !IsTraining;
            if (!s.OnStep && !s.OnEpoch)
                throw new LightningException($"Log(\"{name}\"): onStep and onEpoch are both false, so the value would go nowhere; set one of them.");
            if (!Enum.IsDefined(reduce))
                throw new LightningException($"Log(\"{name}\"): reduce has the unknown value {(int)reduce}; expected MetricReduction.Mean, Sum, Max or Min.");
            s.Reduce = reduce;
        }
        s.ProgBar |= progBar;
        s.SyncDist |= syncDist;
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

    /// <summary>
    /// The step values of the current run for the loggers: the last value of each metric logged with onStep, named
    /// <c>name</c>, or <c>name_step</c> when it is also reduced per epoch (reads the device once per metric).
    /// </summary>
    internal void StepValues(Dictionary<string, double> into)
    {
        foreach (var s in _order)
            if (s.Run == _run && s.OnStep) into[s.OnEpoch ? s.Name + "_step" : s.Name] = s.Last();
    }

    /// <summary>
    /// The values of the current run at its end, as Lightning's <c>callback_metrics</c>: a metric reduced per epoch
    /// (mean weighted by batch size, or its reduction) as <c>name</c>; logged per step only, its last value as <c>name</c>;
    /// logged both ways, also <c>name_epoch</c> and <c>name_step</c>. Reads the device once per metric.
    /// </summary>
    internal List<KeyValuePair<string, double>> RunMeans()
    {
        var result = new List<KeyValuePair<string, double>>();
        foreach (var s in _order)
        {
            if (s.Run != _run) continue;
            if (s.OnEpoch)
            {
                var epoch = s.Reduced();
                result.Add(new(s.Name, epoch));
                if (s.OnStep)
                {
                    result.Add(new(s.Name + "_epoch", epoch));
                    result.Add(new(s.Name + "_step", s.Last()));
                }
            }
            else result.Add(new(s.Name, s.Last()));
        }
        return result;
    }

    /// <summary>True when a value of the current run named <paramref name="name"/> (or its _step/_epoch form) was logged with syncDist.</summary>
    internal bool IsSynced(string name)
    {
        foreach (var s in _order)
            if (s.Run == _run && s.SyncDist && (name == s.Name || name == s.Name + "_epoch" || name == s.Name + "_step")) return true;
        return false;
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
            into.Add(new(s.Name, IsTraining || !s.OnEpoch ? s.Last() : s.Reduced()));
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
        public bool SyncDist;
        public bool OnStep;
        public bool OnEpoch;
        public MetricReduction Reduce;
        public Tensor? Sum;            // the device accumulator (sum, or max/min) of this run
        public bool HasDeviceValue;
        public double HostAcc;         // the host accumulator of values logged as numbers
        public bool HasHostValue;
        public double Count;
        public Tensor? LastTensor;     // the last tensor value, read (and released) when the progress bar needs it
        public double LastHost = double.NaN;

        public void Reset(int run, Stage stage)
        {
            Run = run;
            Stage = stage;
            ProgBar = false;
            SyncDist = false;
            HasDeviceValue = false;
            HostAcc = 0;
            HasHostValue = false;
            Count = 0;
            Sum?.zero_();
            LastTensor?.Dispose();
            LastTensor = null;
            LastHost = double.NaN;
        }

        /// <summary>The run's reduction of every value logged (device and host).</summary>
        public double Reduced()
        {
            double? device = null;
            if (HasDeviceValue)
            {
                Diagnostics.HostSync.Record();
                device = Sum!.item<double>();
            }
            double? host = HasHostValue ? HostAcc : null;
            switch (Reduce)
            {
                case MetricReduction.Mean: return Count == 0 ? double.NaN : ((device ?? 0) + (host ?? 0)) / Count;
                case MetricReduction.Sum: return (device ?? 0) + (host ?? 0);
                case MetricReduction.Max: return device is double d && host is double h ? Math.Max(d, h) : device ?? host ?? double.NaN;
                default: return device is double d2 && host is double h2 ? Math.Min(d2, h2) : device ?? host ?? double.NaN;
            }
        }

        public double Last()
        {
            if (LastTensor is not null)
            {
                Diagnostics.HostSync.Record();
                LastHost = LastTensor.ToDouble();
                LastTensor.Dispose();
                LastTensor = null;
            }
            return LastHost;
        }
    }
}
