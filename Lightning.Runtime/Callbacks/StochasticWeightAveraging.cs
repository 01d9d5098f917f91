using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text.Json;
using Lightning.Checkpoints;
using TorchSharp;
using static TorchSharp.torch;

namespace Lightning.Callbacks;

/// <summary>How <see cref="StochasticWeightAveraging"/> anneals the learning rate to the SWA one (PyTorch's <c>SWALR</c> <c>anneal_strategy</c>).</summary>
public enum SwaAnnealingStrategy
{
    /// <summary><c>"cos"</c>: alpha = (1 - cos(pi t)) / 2.</summary>
    Cos,

    /// <summary><c>"linear"</c>: alpha = t.</summary>
    Linear,
}

/// <summary>
/// When stochastic weight averaging starts, as Lightning's <c>swa_epoch_start</c>: a whole number n (1 or more) starts at the
/// n-th epoch (epoch n - 1 counted from 0); a fraction f in [0, 1] at the <c>int(f * max_epochs)</c>-th. Both convert
/// implicitly: <c>SwaEpochStart = 3</c> or <c>SwaEpochStart = 0.8</c> (so 1 and 1.0 differ, as in Python).
/// </summary>
public readonly record struct SwaEpochStart
{
    private SwaEpochStart(int? epoch, double? fraction) { Epoch = epoch; Fraction = fraction; }

    /// <summary>The epoch number, counted from 1, or null for a fraction.</summary>
    public int? Epoch { get; }

    /// <summary>The fraction of <c>MaxEpochs</c>, or null for an epoch number.</summary>
    public double? Fraction { get; }

    public static implicit operator SwaEpochStart(int epoch) =>
        epoch >= 1 ? new(epoch, null) : throw new ArgumentOutOfRangeException(nameof(epoch), epoch, "swa_epoch_start should be a >0 integer or a float between 0 and 1.");

    public static implicit operator SwaEpochStart(double fraction) =>
        fraction is >= 0 and <= 1 ? new(null, fraction) : throw new ArgumentOutOfRangeException(nameof(fraction), fraction, "swa_epoch_start should be a >0 integer or a float between 0 and 1.");

    /// <summary>The first SWA epoch counted from 0 (Lightning's <c>swa_start = max(swa_epoch_start - 1, 0)</c>).</summary>
    internal int FirstEpoch(int? maxEpochs)
    {
        if (Epoch is int n) return n - 1;
        if (maxEpochs is not int max)
            throw new LightningException("StochasticWeightAveraging.SwaEpochStart is a fraction, which needs a limited MaxEpochs; give an epoch number instead.");
        return Math.Max((int)(max * (Fraction ?? 0.8)) - 1, 0);
    }

    public override string ToString() =>
        Epoch is int n ? n.ToString(CultureInfo.InvariantCulture) : (Fraction ?? 0.8).ToString("0.0###############", CultureInfo.InvariantCulture);
}

/// <summary>
/// Stochastic weight averaging, as Lightning's <c>StochasticWeightAveraging</c> callback (Izmailov et al., 2018), with
/// PyTorch's <c>swa_utils</c> semantics:
/// <list type="bullet">
/// <item>From the first SWA epoch <c>s</c> (<see cref="SwaEpochStart"/>) to the last epoch, at the start of each epoch the
/// parameters enter an equal-weight average (<c>avg + (w - avg) / (n + 1)</c>): the average is that of the weights with which
/// epochs s, s+1, ..., the last begin, as Lightning's.</item>
/// <item>From epoch s on, the learning rate of each parameter group follows <c>SWALR</c>: in epoch <c>s + k</c> it is
/// <c>swa_lr * alpha + lr0 * (1 - alpha)</c>, alpha = anneal(min(1, k / AnnealingEpochs)) (1 when AnnealingEpochs is 0), lr0
/// being the group's learning rate when epoch s began. It replaces the module's scheduler: the learning rates are set at the
/// start of every SWA epoch and batch, so whatever the scheduler does then is overridden.</item>
/// <item>When training ends the module takes the averaged parameters, and when it has BatchNorm layers their running statistics
/// are recomputed by one pass of the training steps over the training data (no backward, no optimizer step; cumulative averages,
/// momentum null), as PyTorch's <c>update_bn</c> and Lightning's extra epoch do.</item>
/// </list>
/// Validation and checkpoints during the fit use the training weights (as Lightning's); the average, the count and the SWA
/// learning rates' start are in checkpoints (<c>callbacks.StochasticWeightAveraging.average.*</c> and JSON) so a fit resumes
/// exactly. See docs/weight-averaging.md.
/// </summary>
public sealed class StochasticWeightAveraging : Callback, ICheckpointTensors
{
    private const string AveragePrefix = "average.";
    private Dictionary<string, Tensor>? _average;   // parameter name -> average
    private ILightningModule? _module;
    private double[]? _initialLrs;   // the groups' learning rates when SWA began (SWALR's starting point)
    private int _firstEpoch;
    private int _lastEpoch;
    private bool _hasBatchNorm;
    private int _groups;

    /// <summary>The SWA learning rate: one value for every parameter group, or one per group (Lightning's <c>swa_lrs</c>).</summary>
    public StochasticWeightAveraging(params double[] swaLrs)
    {
        ArgumentNullException.ThrowIfNull(swaLrs);
        if (swaLrs.Length == 0 || swaLrs.Any(lr => !(lr > 0) || double.IsInfinity(lr)))
            throw new ArgumentException("The swa_lrs should be a positive number, or one positive number per parameter group.", nameof(swaLrs));
        SwaLrs = swaLrs.ToArray();
    }

    /// <summary>The SWA learning rates (one for all groups, or one per group).</summary>
    public IReadOnlyList<double> SwaLrs { get; }

    /// <summary>The epoch SWA starts at: a number from 1, or a fraction of MaxEpochs (Lightning's default 0.8).</summary>
    public SwaEpochStart SwaEpochStart { get; init; } = 0.8;

    /// <summary>Epochs over which the learning rate goes from its value to the SWA one (default 10; 0: at once).</summary>
    public int AnnealingEpochs { get; init; } = 10;

    /// <summary>Cosine (default) or linear annealing.</summary>
    public SwaAnnealingStrategy AnnealingStrategy { get; init; } = SwaAnnealingStrategy.Cos;

    /// <summary>The number of weight sets averaged so far.</summary>
    public long NumAveraged { get; private set; }

    /// <summary>The epoch (from 0) whose start last updated the average; -1 before any.</summary>
    public int LatestUpdateEpoch { get; private set; } = -1;

    /// <summary>The first SWA epoch, counted from 0 (known once the fit started).</summary>
    public int FirstSwaEpoch => _firstEpoch;

    /// <summary>The averaged parameters by name, or null before the first update. Read them, do not keep them.</summary>
    public IReadOnlyDictionary<string, Tensor>? AveragedParameters => NumAveraged == 0 ? null : _average;

    public override string? StateKey => nameof(StochasticWeightAveraging);

    public override void OnFitStart(Trainer trainer, ILightningModule module)
    {
        ArgumentNullException.ThrowIfNull(trainer);
        ArgumentNullException.ThrowIfNull(module);
        if (AnnealingEpochs < 0)
            throw new LightningException($"StochasticWeightAveraging.AnnealingEpochs is {AnnealingEpochs}: expected 0 or more.");
        int groups = _groups = trainer.Optimizer!.ParamGroups.Count();
        if (SwaLrs.Count != 1 && SwaLrs.Count != groups)
            throw new LightningException($"StochasticWeightAveraging has {SwaLrs.Count} learning rates for an optimizer with {groups} parameter groups: give one, or one per group.");
        int? maxEpochs = trainer.Options.MaxEpochs == -1 || trainer.Options.ResolvedMaxEpochs == int.MaxValue ? null : trainer.Options.ResolvedMaxEpochs;
        _firstEpoch = SwaEpochStart.FirstEpoch(maxEpochs);
        _lastEpoch = maxEpochs is int max ? max - 1 : int.MaxValue;
        _hasBatchNorm = module.Module.modules().Any(m => m is TorchSharp.Modules.BatchNorm);
        if (_hasBatchNorm && !module.AutomaticOptimization)
            throw new LightningException(
                $"StochasticWeightAveraging recomputes {module.ModuleTypeName}'s BatchNorm statistics by running its training step without optimizing, " +
                "which a module that optimizes manually cannot do.");
        DisposeAverage();
        _module = module;
        _initialLrs = null;
        NumAveraged = 0;
        LatestUpdateEpoch = -1;
    }

    private bool InSwa(int epoch) => epoch >= _firstEpoch && epoch <= _lastEpoch;

    public override void OnTrainEpochStart(Trainer trainer, ILightningModule module)
    {
        ArgumentNullException.ThrowIfNull(trainer);
        int epoch = trainer.CurrentEpoch;
        if (!InSwa(epoch)) return;
        // Lightning creates SWALR here, from the groups' learning rates now.
        _initialLrs ??= trainer.Optimizer!.ParamGroups.Select(g => g.LearningRate).ToArray();
        if (epoch > LatestUpdateEpoch)
        {
            Update(module);
            LatestUpdateEpoch = epoch;
        }
        SetLearningRates(trainer);
    }

    public override void OnTrainBatchStart(Trainer trainer, ILightningModule module, long batchIdx)
    {
        ArgumentNullException.ThrowIfNull(trainer);
        if (_initialLrs is not null && InSwa(trainer.CurrentEpoch)) SetLearningRates(trainer);
    }

    /// <summary>
    /// The learning rate of SWA epoch <paramref name="epochsIntoSwa"/> (0 for the first): PyTorch's <c>SWALR.get_lr</c> after that
    /// many steps, in closed form, from <paramref name="initialLr"/>.
    /// </summary>
    public static double LearningRate(double initialLr, double swaLr, int epochsIntoSwa, int annealingEpochs, SwaAnnealingStrategy strategy)
    {
        int step = annealingEpochs == 0 ? Math.Max(1, epochsIntoSwa) : epochsIntoSwa;
        double t = Math.Clamp((double)step / Math.Max(1, annealingEpochs), 0, 1);
        double alpha = strategy == SwaAnnealingStrategy.Cos ? (1 - Math.Cos(Math.PI * t)) / 2 : t;
        return swaLr * alpha + initialLr * (1 - alpha);
    }

    private void SetLearningRates(Trainer trainer)
    {
        int k = trainer.CurrentEpoch - _firstEpoch;
        int i = 0;
        foreach (var group in trainer.Optimizer!.ParamGroups)
        {
            double swaLr = SwaLrs.Count == 1 ? SwaLrs[0] : SwaLrs[i];
            group.LearningRate = LearningRate(_initialLrs![i], swaLr, k, AnnealingEpochs, AnnealingStrategy);
            i++;
        }
    }

    /// <summary>Training ended: the module takes the averaged parameters, then its BatchNorm statistics are recomputed.</summary>
    public override void OnTrainEnd(Trainer trainer, ILightningModule module)
    {
        ArgumentNullException.ThrowIfNull(trainer);
        ArgumentNullException.ThrowIfNull(module);
        if (NumAveraged == 0 || _average is null) return;
        using (var scope = NewDisposeScope())
        using (var noGrad = no_grad())
        {
            foreach (var (name, parameter) in module.Module.named_parameters()) parameter.copy_(_average[name]);
        }
        if (_hasBatchNorm) UpdateBatchNorm(trainer, module);
    }

    /// <summary>PyTorch's <c>update_bn</c>: reset the running statistics, momentum null (a cumulative average), one pass, momentum back.</summary>
    private static void UpdateBatchNorm(Trainer trainer, ILightningModule module)
    {
        var momenta = new List<(TorchSharp.Modules.BatchNorm Layer, double? Momentum)>();
        foreach (var layer in module.Module.modules().OfType<TorchSharp.Modules.BatchNorm>())
        {
            layer.reset_running_stats();
            momenta.Add((layer, layer.momentum));
            layer.momentum = null;
        }
        try { trainer.RunTrainingForwardPass(); }
        finally
        {
            foreach (var (layer, momentum) in momenta) layer.momentum = momentum;
        }
    }

    private void Update(ILightningModule module)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var parameters = module.Module.named_parameters().ToList();
        if (_average is null)
            _average = parameters.ToDictionary(p => p.name, p => p.parameter.detach().clone().DetachFromDisposeScope(), StringComparer.Ordinal);
        else
        {
            foreach (var (name, parameter) in parameters)
            {
                var average = _average[name];
                // Lightning's StochasticWeightAveraging.avg_fn (PyTorch's get_swa_avg_fn).
                if (NumAveraged == 0) average.copy_(parameter);
                else average.add_((parameter - average).div_(NumAveraged + 1));
            }
        }
        NumAveraged++;
    }

    private void DisposeAverage() => WeightAveraging.DisposeAll(ref _average);

    public override void SaveState(Utf8JsonWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteStartObject();
        writer.WriteNumber("n_averaged", NumAveraged);
        writer.WriteNumber("latest_update_epoch", LatestUpdateEpoch);
        writer.WritePropertyName("initial_lrs");
        if (_initialLrs is null) writer.WriteNullValue();
        else
        {
            writer.WriteStartArray();
            foreach (var lr in _initialLrs) writer.WriteNumberValue(lr);
            writer.WriteEndArray();
        }
        writer.WriteEndObject();
    }

    public override void LoadState(JsonElement state, string checkpointPath)
    {
        var key = StateKey!;
        NumAveraged = CheckpointJson.WholeNumber(CheckpointJson.Required(state, "n_averaged", checkpointPath, key), checkpointPath, key + ".n_averaged");
        LatestUpdateEpoch = WeightAveraging.EpochOrNone(state, "latest_update_epoch", checkpointPath, key);
        var lrs = CheckpointJson.Required(state, "initial_lrs", checkpointPath, key);
        if (lrs.ValueKind == JsonValueKind.Null) { _initialLrs = null; return; }
        var values = CheckpointJson.Array(lrs, checkpointPath, key + ".initial_lrs").EnumerateArray()
            .Select(v => CheckpointJson.Number(v, checkpointPath, key + ".initial_lrs[]", 0, double.MaxValue)).ToArray();
        if (values.Length != _groups)
            throw new CheckpointException(checkpointPath, $"its state of callback '{key}' has {values.Length} initial learning rates for an optimizer with {_groups} parameter groups");
        _initialLrs = values;
    }

    /// <summary>The average, when there is one, as <c>average.&lt;parameter name&gt;</c>; the file's <c>model.*</c> are the training weights.</summary>
    public void SaveTensors(IDictionary<string, Tensor> tensors, IDictionary<string, Tensor> modelWeights)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        if (_average is null || NumAveraged == 0) return;
        foreach (var (name, average) in _average) tensors[AveragePrefix + name] = average;
    }

    /// <summary>Reads the average back (every parameter's, with its dtype and shape, checked before anything changes).</summary>
    public void LoadTensors(CheckpointTensors saved)
    {
        ArgumentNullException.ThrowIfNull(saved);
        if (_module is null) return;
        var parameters = _module.Module.named_parameters().ToList();
        if (NumAveraged == 0) return;
        foreach (var (name, parameter) in parameters) saved.Check(AveragePrefix + name, parameter.dtype, parameter.shape);
        saved.ExpectOnly(parameters.Select(p => AveragePrefix + p.name).ToHashSet(StringComparer.Ordinal), StateKey!);
        DisposeAverage();
        var average = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (name, parameter) in parameters)
        {
            using var loaded = saved.Load(AveragePrefix + name, parameter.dtype, parameter.shape);
            average[name] = loaded.to(parameter.device).clone().DetachFromDisposeScope();
        }
        _average = average;
    }
}
