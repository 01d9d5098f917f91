using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.Json;
using Lightning.Checkpoints;
using TorchSharp;
using static TorchSharp.torch;

namespace Lightning.Callbacks;

/// <summary>
/// Keeps an average of the module's weights while it trains, as Lightning's <c>WeightAveraging</c> (with PyTorch's
/// <c>torch.optim.swa_utils.AveragedModel</c>): after each optimizer step for which <see cref="ShouldUpdate"/> says so (by
/// default every step) and at each epoch end it asks, the average takes the current weights in with <see cref="Average"/>
/// (by default the equal-weight average of <c>get_swa_avg_fn</c>). The first update copies the weights. Floating-point
/// buffers (BatchNorm's running statistics) are averaged too unless <see cref="UseBuffers"/> is false; other buffers (counters)
/// follow the module.
/// <para>
/// During a fit, validation runs with the averaged weights (swapped in at <c>OnValidationStart</c>, back at
/// <c>OnValidationEnd</c>), checkpoints hold them as the module's weights (<c>model.*</c>, so <c>Foo.LoadFromCheckpoint</c>
/// gives the averaged model) and keep the training weights as this callback's tensors (<c>callbacks.&lt;StateKey&gt;.current.*</c>),
/// so a resumed fit continues from the training weights exactly. When training ends the module holds the averaged weights.
/// Nothing is swapped before the first update (Lightning swaps in the copy it made at setup; here there is no average yet).
/// </para>
/// See docs/weight-averaging.md. Subclass it to average otherwise (override <see cref="Average"/>) or at other times
/// (override <see cref="ShouldUpdate"/>); <see cref="EmaWeightAveraging"/> is the exponential moving average.
/// </summary>
public class WeightAveraging : Callback, ICheckpointTensors
{
    private const string CurrentPrefix = "current.";
    private Dictionary<string, Tensor>? _average;   // the state_dict keys of the module; the average, or the training weights while swapped
    private HashSet<string> _averagedKeys = new(StringComparer.Ordinal);
    private ILightningModule? _module;
    private bool _swapped;             // the module holds the average and _average the training weights
    private bool _swappedForValidation;
    private bool _inFit;

    /// <summary>Average the floating-point buffers too (Lightning's default <c>use_buffers=True</c>); false: only the parameters.</summary>
    public bool UseBuffers { get; init; } = true;

    /// <summary>The number of weight sets averaged so far (AveragedModel's <c>n_averaged</c>).</summary>
    public long NumAveraged { get; private set; }

    /// <summary>The global step (optimizer steps taken) at the last update after a step; 0 before any.</summary>
    public long LatestUpdateStep { get; private set; }

    /// <summary>The epoch (from 0) whose end last updated the average; -1 before any.</summary>
    public int LatestUpdateEpoch { get; private set; } = -1;

    /// <summary>The key of this callback's state in checkpoints: its class name (Lightning's <c>state_key</c>).</summary>
    public override string? StateKey => GetType().Name;

    /// <summary>
    /// Whether to update the average after the optimizer step with index <paramref name="stepIdx"/> (from 0; the epoch argument is
    /// null), or at the end of epoch <paramref name="epochIdx"/> (the step argument is null). Lightning's default: after every step.
    /// </summary>
    public virtual bool ShouldUpdate(long? stepIdx = null, int? epochIdx = null) => stepIdx is not null;

    /// <summary>
    /// Takes <paramref name="current"/> into <paramref name="average"/> in place, <paramref name="numAveraged"/> (1 or more) weight
    /// sets being in it already. The default is PyTorch's <c>get_swa_avg_fn</c>: <c>average + (current - average) / (numAveraged + 1)</c>.
    /// Runs without gradients, inside a dispose scope.
    /// </summary>
    protected virtual void Average(Tensor average, Tensor current, long numAveraged)
    {
        ArgumentNullException.ThrowIfNull(average);
        average.add_((current - average).div_(numAveraged + 1));
    }

    /// <summary>Checks the settings when a fit starts (a subclass's, e.g. a decay in [0, 1]).</summary>
    protected virtual void Validate() { }

    /// <summary>
    /// The averaged weights now, by state_dict key (the module's own tensors while they are swapped in); null before the first
    /// update. Read them, do not keep them: they change with the next update or swap.
    /// </summary>
    public IReadOnlyDictionary<string, Tensor>? AveragedWeights =>
        _average is null || NumAveraged == 0 ? null : _swapped ? _module!.Module.state_dict() : _average;

    /// <summary>
    /// The training weights now, by state_dict key: the module's own, or the ones kept here while the average is swapped in
    /// (after training ended); null before a fit.
    /// </summary>
    public IReadOnlyDictionary<string, Tensor>? TrainingWeights =>
        _module is null ? null : _swapped ? _average : _module.Module.state_dict();

    public override void OnFitStart(Trainer trainer, ILightningModule module)
    {
        ArgumentNullException.ThrowIfNull(module);
        Validate();
        DisposeAverage();
        _module = module;
        NumAveraged = 0;
        LatestUpdateStep = 0;
        LatestUpdateEpoch = -1;
        _swapped = _swappedForValidation = false;
        _inFit = true;
        var parameters = module.Module.named_parameters().Select(p => p.name).ToHashSet(StringComparer.Ordinal);
        _averagedKeys = module.Module.state_dict()
            .Where(kv => kv.Value.is_floating_point() && (UseBuffers || parameters.Contains(kv.Key)))
            .Select(kv => kv.Key).ToHashSet(StringComparer.Ordinal);
    }

    public override void OnTrainBatchEnd(Trainer trainer, ILightningModule module, Tensor? loss, long batchIdx)
    {
        ArgumentNullException.ThrowIfNull(trainer);
        // Lightning: trainer.global_step - 1 is the index of the step just taken; a batch without an optimizer step
        // (gradient accumulation) does not update.
        if (trainer.GlobalStep > LatestUpdateStep && ShouldUpdate(stepIdx: trainer.GlobalStep - 1))
        {
            Update(module);
            LatestUpdateStep = trainer.GlobalStep;
        }
    }

    public override void OnTrainEpochEnd(Trainer trainer, ILightningModule module)
    {
        ArgumentNullException.ThrowIfNull(trainer);
        if (trainer.CurrentEpoch > LatestUpdateEpoch && ShouldUpdate(epochIdx: trainer.CurrentEpoch))
        {
            Update(module);
            LatestUpdateEpoch = trainer.CurrentEpoch;
        }
    }

    public override void OnSanityCheckStart(Trainer trainer, ILightningModule module) => SwapInForValidation();
    public override void OnSanityCheckEnd(Trainer trainer, ILightningModule module) => SwapBackAfterValidation();
    public override void OnValidationStart(Trainer trainer, ILightningModule module) => SwapInForValidation();
    public override void OnValidationEnd(Trainer trainer, ILightningModule module) => SwapBackAfterValidation();

    /// <summary>Training ended: the module takes the averaged weights; the training weights stay here (a checkpoint written now still resumes exactly).</summary>
    public override void OnTrainEnd(Trainer trainer, ILightningModule module)
    {
        if (NumAveraged > 0 && !_swapped) Swap();
    }

    public override void OnFitEnd(Trainer trainer, ILightningModule module) => _inFit = false;

    public override void OnException(Trainer trainer, ILightningModule module, Exception exception)
    {
        SwapBackAfterValidation();
        _inFit = false;
    }

    private void SwapInForValidation()
    {
        if (!_inFit || NumAveraged == 0 || _swapped) return;
        Swap();
        _swappedForValidation = true;
    }

    private void SwapBackAfterValidation()
    {
        if (!_swappedForValidation) return;
        _swappedForValidation = false;
        Swap();
    }

    private void Update(ILightningModule module)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var state = module.Module.state_dict();
        if (_average is null)
        {
            _average = state.ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone().DetachFromDisposeScope(), StringComparer.Ordinal);
        }
        else
        {
            foreach (var (key, current) in state)
            {
                var average = _average[key];
                if (NumAveraged == 0 || !_averagedKeys.Contains(key)) average.copy_(current);
                else Average(average, current, NumAveraged);
            }
        }
        NumAveraged++;
    }

    /// <summary>Exchanges the module's weights with the ones kept here.</summary>
    private void Swap()
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        foreach (var (key, current) in _module!.Module.state_dict())
        {
            var kept = _average![key];
            var copy = kept.clone();
            kept.copy_(current);
            current.copy_(copy);
        }
        _swapped = !_swapped;
    }

    private void DisposeAverage() => DisposeAll(ref _average);

    /// <summary>Frees the tensors of a kept copy of weights (an average) and forgets it.</summary>
    internal static void DisposeAll(ref Dictionary<string, Tensor>? tensors)
    {
        if (tensors is null) return;
        foreach (var t in tensors.Values) t.Dispose();
        tensors = null;
    }

    public override void SaveState(Utf8JsonWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteStartObject();
        writer.WriteNumber("n_averaged", NumAveraged);
        writer.WriteNumber("latest_update_step", LatestUpdateStep);
        writer.WriteNumber("latest_update_epoch", LatestUpdateEpoch);
        writer.WriteEndObject();
    }

    public override void LoadState(JsonElement state, string checkpointPath)
    {
        var key = StateKey!;
        NumAveraged = CheckpointJson.WholeNumber(CheckpointJson.Required(state, "n_averaged", checkpointPath, key), checkpointPath, key + ".n_averaged");
        LatestUpdateStep = CheckpointJson.WholeNumber(CheckpointJson.Required(state, "latest_update_step", checkpointPath, key), checkpointPath, key + ".latest_update_step");
        LatestUpdateEpoch = EpochOrNone(state, "latest_update_epoch", checkpointPath, key);
    }

    /// <summary>An epoch number saved in a callback's state, or -1 for none yet (anything else is a CheckpointException).</summary>
    internal static int EpochOrNone(JsonElement state, string name, string checkpointPath, string key)
    {
        var value = CheckpointJson.Required(state, name, checkpointPath, key);
        if (value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out int none) && none == -1) return -1;
        return (int)CheckpointJson.WholeNumber(value, checkpointPath, key + "." + name, 0, int.MaxValue - 1);
    }

    /// <summary>
    /// With an average: the file's <c>model.*</c> weights are the average and <c>current.*</c> the training weights; before the
    /// first update the module's weights are written as they are.
    /// </summary>
    public void SaveTensors(IDictionary<string, Tensor> tensors, IDictionary<string, Tensor> modelWeights)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        ArgumentNullException.ThrowIfNull(modelWeights);
        if (_average is null || NumAveraged == 0 || _module is null) return;
        var module = _module.Module.state_dict();
        foreach (var key in module.Keys)
        {
            var (average, current) = _swapped ? (module[key], _average[key]) : (_average[key], module[key]);
            modelWeights[key] = average;
            tensors[CurrentPrefix + key] = current;
        }
    }

    /// <summary>
    /// On resume the module holds the checkpoint's <c>model.*</c> weights, the average: they become the average again, and the
    /// training weights come back from <c>current.*</c> (all checked before anything changes).
    /// </summary>
    public void LoadTensors(CheckpointTensors saved)
    {
        ArgumentNullException.ThrowIfNull(saved);
        if (NumAveraged == 0 || _module is null) return;
        var module = _module.Module.state_dict();
        foreach (var (key, tensor) in module) saved.Check(CurrentPrefix + key, tensor.dtype, tensor.shape);
        saved.ExpectOnly(module.Keys.Select(k => CurrentPrefix + k).ToHashSet(StringComparer.Ordinal), StateKey!);
        using (var scope = NewDisposeScope())
        using (var noGrad = no_grad())
            _average = module.ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone().DetachFromDisposeScope(), StringComparer.Ordinal);
        foreach (var (key, tensor) in module) saved.CopyTo(CurrentPrefix + key, tensor);
    }
}

/// <summary>
/// The exponential moving average of the weights, as Lightning's <c>EMAWeightAveraging</c>: after an optimizer step with index
/// <c>s</c> (from 0) when <c>s &gt;= UpdateStartingAtStep</c> (or no start is set) and <c>s % UpdateEveryNSteps == 0</c>, and at
/// the end of each epoch from <see cref="UpdateStartingAtEpoch"/> when it is set, the average becomes
/// <c>Decay * average + (1 - Decay) * weights</c> (PyTorch's <c>get_ema_avg_fn</c>); the first update copies the weights.
/// Validation and checkpoints use the average, as <see cref="WeightAveraging"/> says.
/// </summary>
public sealed class EmaWeightAveraging : WeightAveraging
{
    /// <summary>The weight of the old average, in [0, 1] (Lightning's default 0.999).</summary>
    public double Decay { get; init; } = 0.999;

    /// <summary>Update after every n-th optimizer step (step indices divisible by n); 0: never after steps.</summary>
    public int UpdateEveryNSteps { get; init; } = 1;

    /// <summary>The first step index (from 0) that updates; null: from the first step.</summary>
    public long? UpdateStartingAtStep { get; init; }

    /// <summary>When set, the average is also updated at the end of every epoch from this one (from 0) on, as Lightning's.</summary>
    public int? UpdateStartingAtEpoch { get; init; }

    /// <summary>Lightning's <c>EMAWeightAveraging.should_update</c>.</summary>
    public override bool ShouldUpdate(long? stepIdx = null, int? epochIdx = null)
    {
        if (stepIdx is long step && (UpdateStartingAtStep is not long start || step >= start) && UpdateEveryNSteps > 0 && step % UpdateEveryNSteps == 0)
            return true;
        return epochIdx is int epoch && UpdateStartingAtEpoch is int startEpoch && epoch >= startEpoch;
    }

    /// <summary><c>Decay * average + (1 - Decay) * current</c>, PyTorch's <c>get_ema_avg_fn(decay)</c>.</summary>
    protected override void Average(Tensor average, Tensor current, long numAveraged)
    {
        ArgumentNullException.ThrowIfNull(average);
        average.mul_(Decay).add_(current, alpha: 1 - Decay);
    }

    protected override void Validate()
    {
        if (!(Decay is >= 0 and <= 1))
            throw new LightningException($"EmaWeightAveraging.Decay is {Decay}: expected a value from 0 to 1.");
        if (UpdateEveryNSteps < 0)
            throw new LightningException($"EmaWeightAveraging.UpdateEveryNSteps is {UpdateEveryNSteps}: expected 0 (never after steps) or more.");
        if (UpdateStartingAtStep < 0)
            throw new LightningException($"EmaWeightAveraging.UpdateStartingAtStep is {UpdateStartingAtStep}: expected 0 or more, or null.");
        if (UpdateStartingAtEpoch < 0)
            throw new LightningException($"EmaWeightAveraging.UpdateStartingAtEpoch is {UpdateStartingAtEpoch}: expected 0 or more, or null.");
    }
}
