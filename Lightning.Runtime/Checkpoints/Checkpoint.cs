using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using TorchSharp;
using static TorchSharp.torch;

namespace Lightning.Checkpoints;

/// <summary>
/// A Lightning checkpoint: one safetensors file holding a module's weights (<c>model.&lt;state_dict key&gt;</c>)
/// and, as metadata, the format version, the module type, its hyperparameters (JSON) and the loop progress.
/// See docs/checkpoint-format.md. Generated <c>Foo.LoadFromCheckpoint(path)</c> methods use <see cref="Open"/>.
/// </summary>
public sealed class Checkpoint
{
    /// <summary>The format version this runtime writes and reads.</summary>
    public const string FormatVersion = "1";

    /// <summary>Prefix of the module's weights.</summary>
    public const string ModelPrefix = "model.";

    /// <summary>
    /// The optimizer's state as one blob (TorchSharp's optimizer state format, as bytes): written only for optimizer
    /// types <see cref="OptimizerStateTensors"/> does not support, read from older files too.
    /// </summary>
    public const string OptimizerState = "optimizer.state";

    /// <summary>The CPU random generator's state.</summary>
    public const string RngState = "rng.torch_cpu";

    /// <summary>Prefix of the tensors callbacks save (<see cref="ICheckpointTensors"/>): <c>callbacks.&lt;StateKey&gt;.&lt;name&gt;</c>.</summary>
    public const string CallbackPrefix = "callbacks.";

    private readonly SafetensorsFile _file;

    private Checkpoint(SafetensorsFile file) => _file = file;

    /// <summary>The file.</summary>
    public string Path => _file.Path;

    /// <summary>The type name of the module that was saved (e.g. <c>FashionMnist.FashionCnn</c>).</summary>
    public string ModuleType => Required("module_type");

    /// <summary>The saved hyperparameters, as JSON.</summary>
    public string HParamsJson => Required("hparams");

    /// <summary>The epoch the checkpoint was written in (from 0).</summary>
    public int Epoch => (int)WholeNumber("epoch", MaxEpoch);

    /// <summary>Optimizer steps taken when the checkpoint was written.</summary>
    public long GlobalStep => WholeNumber("global_step", long.MaxValue);

    /// <summary>Training batches of <see cref="Epoch"/> that had run when the checkpoint was written (0 in older files).</summary>
    public long BatchInEpoch => _file.Metadata.ContainsKey("batch_in_epoch") ? WholeNumber("batch_in_epoch", long.MaxValue) : 0;

    /// <summary>
    /// True when <see cref="Epoch"/>'s training batches had all run (the checkpoint was written at the end of the
    /// epoch's validation or the epoch itself); false for a checkpoint written within the epoch.
    /// </summary>
    public bool EpochFinished => Boolean("epoch_finished") ?? true;

    /// <summary>True when the end of <see cref="Epoch"/> (its callbacks and scheduler step) had run when the checkpoint was written.</summary>
    public bool EpochEndDone => Boolean("epoch_end_done") ?? !_file.Metadata.ContainsKey("scheduler");

    /// <summary>Training batches run in the whole fit when the checkpoint was written (Ignite's iteration count).</summary>
    public long Iteration => _file.Metadata.ContainsKey("iteration") ? WholeNumber("iteration", long.MaxValue) : 0;

    /// <summary>The largest epoch number a checkpoint may hold (so that the next epoch's number still fits).</summary>
    private const int MaxEpoch = int.MaxValue - 1;

    /// <summary>
    /// The loop position, each value checked for its type and range and against the others: a checkpoint
    /// written within an epoch has run some of its batches, the batches of the epoch are part of the fit's,
    /// and (under automatic optimization, one optimizer step per batch at most) no more optimizer steps than
    /// batches and no more epochs than batches.
    /// </summary>
    public LoopPosition ReadPosition(bool automaticOptimization)
    {
        var position = new LoopPosition(Epoch, GlobalStep, BatchInEpoch, EpochFinished, EpochEndDone, Iteration);
        if (position.EpochEndDone && !position.EpochFinished)
            throw new CheckpointException(Path, "its metadata says the epoch's end had run ('epoch_end_done' true) but not all its batches ('epoch_finished' false)");
        if (_file.Metadata.ContainsKey("iteration"))
        {
            if (position.BatchInEpoch > position.Iteration)
                throw new CheckpointException(Path, $"its metadata 'batch_in_epoch' ({position.BatchInEpoch}) is more than the batches of the whole fit ('iteration' {position.Iteration})");
            if (position.Epoch > position.Iteration)
                throw new CheckpointException(Path, $"its metadata 'epoch' ({position.Epoch}) is more than the batches of the whole fit ('iteration' {position.Iteration}); every epoch runs at least one batch");
            if (automaticOptimization && position.GlobalStep > position.Iteration)
                throw new CheckpointException(Path, $"its metadata 'global_step' ({position.GlobalStep}) is more than the batches of the whole fit ('iteration' {position.Iteration}); a batch takes one optimizer step at most");
        }
        return position;
    }

    /// <summary>
    /// Writes <paramref name="module"/>'s weights and hyperparameters to <paramref name="path"/>, atomically; with
    /// <paramref name="state"/>, also what resuming a fit needs: the loop position, the optimizer's state, the
    /// scheduler's and the callbacks' states, the logged metrics and the random generator's state.
    /// </summary>
    public static void Save(string path, ILightningModule module, TrainingState? state = null)
    {
        ArgumentNullException.ThrowIfNull(module);
        module.RegisterComponentsOnce();
        // A callback may have put other weights (same keys, dtypes and shapes) in the place of the module's, e.g. averaged ones.
        var weights = state?.ModelWeights ?? module.Module.state_dict();
        var tensors = weights.Select(kv => (ModelPrefix + kv.Key, kv.Value)).ToList();
        using var scope = NewDisposeScope();
        var metadata = new Dictionary<string, string>
        {
            ["format_version"] = FormatVersion,
            ["module_type"] = module.ModuleTypeName,
            ["hparams"] = HyperParameterJson.ToJson(module.HyperParameters),
            ["epoch"] = "0",
            ["global_step"] = "0",
        };
        if (state is not null)
        {
            // Named, typed tensors the reader can validate; TorchSharp's opaque blob only for optimizers the codec does not know.
            if (!OptimizerStateTensors.Write(state.Optimizer, tensors, metadata))
            {
                using var buffer = new System.IO.MemoryStream();
                using (var writer = new System.IO.BinaryWriter(buffer, System.Text.Encoding.UTF8, leaveOpen: true))
                    Savable(state.Optimizer).save_state_dict(writer);
                tensors.Add((OptimizerState, tensor(buffer.ToArray())));
            }
            tensors.Add((RngState, get_rng_state()));
            if (state.CallbackTensors is { } callbackTensors) tensors.AddRange(callbackTensors);
            var ci = CultureInfo.InvariantCulture;
            metadata["epoch"] = state.Epoch.ToString(ci);
            metadata["global_step"] = state.GlobalStep.ToString(ci);
            metadata["batch_in_epoch"] = state.BatchInEpoch.ToString(ci);
            metadata["epoch_finished"] = state.EpochFinished ? "true" : "false";
            metadata["epoch_end_done"] = state.EpochEndDone ? "true" : "false";
            metadata["iteration"] = state.Iteration.ToString(ci);
            metadata["scheduler"] = state.SchedulerJson;
            metadata["callbacks"] = state.CallbacksJson;
            metadata["callback_metrics"] = state.CallbackMetricsJson;
            // Mid-epoch: the epoch's running values, so a resume ends the epoch with the same means (MetricStore.WriteRun).
            if (state.EpochMetricsJson is not null) metadata["epoch_metrics"] = state.EpochMetricsJson;
        }
        SafetensorsFile.Write(path, tensors, metadata);
    }

    /// <summary>Opens a checkpoint of any module type (to read its metadata, e.g. the callbacks' states).</summary>
    public static Checkpoint OpenAny(string path) => new(SafetensorsFile.Read(path));

    /// <summary>
    /// Opens a checkpoint of a module of type <paramref name="expectedModuleType"/>; a checkpoint of another
    /// module type or format version is a <see cref="CheckpointException"/>.
    /// </summary>
    public static Checkpoint Open(string path, string expectedModuleType)
    {
        var checkpoint = new Checkpoint(SafetensorsFile.Read(path));
        if (!checkpoint._file.Metadata.TryGetValue("format_version", out var version))
            throw new CheckpointException(path, "it is a safetensors file but not a Lightning checkpoint (no 'format_version' in its metadata)");
        if (version != FormatVersion)
            throw new CheckpointException(path, $"its format version is {version}; this version of Lightning reads version {FormatVersion}");
        if (checkpoint.ModuleType != expectedModuleType)
            throw new CheckpointException(path, $"it is a checkpoint of '{checkpoint.ModuleType}', not of '{expectedModuleType}'");
        return checkpoint;
    }

    /// <summary>
    /// The saved hyperparameters, read with <paramref name="fromJson"/> (the generated <c>HParams.FromJson</c>, which checks
    /// their ranges), then changed by <paramref name="overrides"/> and checked again. A value of the wrong type or out of
    /// range is a <see cref="CheckpointException"/> naming the file and the hyperparameter.
    /// </summary>
    public THParams ReadHParams<THParams>(Func<string, string, THParams> fromJson, Func<THParams, THParams>? overrides = null)
        where THParams : IHyperParameters
    {
        ArgumentNullException.ThrowIfNull(fromJson);
        THParams hparams;
        try { hparams = fromJson(HParamsJson, "saved hyperparameters"); }
        catch (LightningException e) when (e is not CheckpointException) { throw new CheckpointException(Path, e.Message, e); }
        if (overrides is null) return hparams;
        hparams = overrides(hparams);
        try { hparams.Validate("hyperparameters after overrides"); }
        catch (HyperParameterRangeException e) { throw new CheckpointException(Path, e.Message, e); }
        return hparams;
    }

    /// <summary>
    /// Builds the module the saved weights go into, from <paramref name="hparams"/> with <paramref name="build"/> (the
    /// generated code: <c>Create</c>, then <c>RegisterComponents</c>), safely: first on the meta device, where tensors have
    /// shapes but no memory, so the module's parameter and buffer shapes are compared with the file's before any weight is
    /// allocated (saved hyperparameters that would build a huge module are refused at no cost); then for real. Anything
    /// thrown while building (TorchSharp's native error for a 0-sized layer, an ArgumentException, OutOfMemoryException)
    /// is a <see cref="CheckpointException"/> naming the file and listing the hyperparameters, not a crash deep inside
    /// TorchSharp. A module whose constructor cannot run on the meta device (e.g. it reads tensor values) skips the
    /// first check; its shapes are still compared before the weights are copied.
    /// </summary>
    public TModule Build<THParams, TModule>(THParams hparams, Func<THParams, TModule> build)
        where THParams : IHyperParameters
        where TModule : nn.Module
    {
        ArgumentNullException.ThrowIfNull(build);
        if (BuildOnMeta(hparams, build) is { } meta)
        {
            using (meta) CheckFits(meta.state_dict());
        }
        try
        {
            return build(hparams);
        }
        catch (Exception e) when (e is not (CheckpointException or StackOverflowException))
        {
            var values = string.Join(", ", hparams.Values.Select(v => v.Name + "=" + (v.Value is bool b ? (b ? "true" : "false") : Convert.ToString(v.Value, CultureInfo.InvariantCulture))));
            var reason = e.Message.Split('\n')[0].Trim();   // libtorch appends a C++ backtrace on further lines
            throw new CheckpointException(Path, $"building {typeof(TModule).Name} from its saved hyperparameters ({values}) failed: {reason}", e);
        }
    }

    /// <summary>The module built on the meta device (no memory), or null when its constructor cannot run there.</summary>
    private static TModule? BuildOnMeta<THParams, TModule>(THParams hparams, Func<THParams, TModule> build) where TModule : nn.Module
    {
        var previous = get_default_device();
        try
        {
            set_default_device(META);
            return build(hparams);
        }
        catch (Exception e) when (e is not StackOverflowException)
        {
            return null;   // built for real next, where a failure is reported
        }
        finally
        {
            set_default_device(previous);
        }
    }

    /// <summary>
    /// Loads the saved weights into <paramref name="module"/>. Every parameter and buffer must be in the file
    /// with the same shape and dtype, and the file must hold no other model tensor; otherwise nothing is
    /// changed and the exception lists every missing, unexpected and mis-shaped tensor.
    /// </summary>
    public void LoadWeights(nn.Module module)
    {
        var target = module.state_dict();
        CheckFits(target);
        using var noGrad = no_grad();
        foreach (var (key, tensor) in target)
        {
            using var value = _file.Load(ModelPrefix + key);
            tensor.copy_(value);
        }
    }

    /// <summary>Every parameter and buffer of <paramref name="target"/> is in the file with its shape and dtype, and the file has no other model tensor.</summary>
    private void CheckFits(IReadOnlyDictionary<string, Tensor> target)
    {
        var saved = _file.Tensors.Where(e => e.Name.StartsWith(ModelPrefix, StringComparison.Ordinal))
            .ToDictionary(e => e.Name[ModelPrefix.Length..], StringComparer.Ordinal);
        var problems = new List<string>();
        var missing = target.Keys.Where(k => !saved.ContainsKey(k)).ToList();
        var unexpected = saved.Keys.Where(k => !target.ContainsKey(k)).ToList();
        if (missing.Count > 0) problems.Add("missing tensors: " + string.Join(", ", missing));
        if (unexpected.Count > 0) problems.Add("unexpected tensors: " + string.Join(", ", unexpected));
        foreach (var (key, tensor) in target)
        {
            if (!saved.TryGetValue(key, out var entry)) continue;
            if (!entry.Shape.SequenceEqual(tensor.shape) || entry.ScalarType != tensor.dtype)
                problems.Add($"'{key}' is {entry.ScalarType} [{string.Join(", ", entry.Shape)}] in the file but {tensor.dtype} [{string.Join(", ", tensor.shape)}] in the module");
        }
        if (problems.Count > 0)
            throw new CheckpointException(Path, "its weights do not fit the module: " + string.Join("; ", problems));
    }

    /// <summary>True when the checkpoint holds what resuming a fit needs (optimizer and random state).</summary>
    public bool CanResume => (_file.Contains(OptimizerState) || OptimizerStateTensors.IsStoredIn(_file)) && _file.Contains(RngState);

    /// <summary>
    /// Restores the optimizer's state (for resuming a fit): from the named tensors and the <c>optimizer</c> metadata,
    /// fully validated first (<see cref="OptimizerStateTensors.Restore"/>), or from the <see cref="OptimizerState"/>
    /// blob of older files and of optimizer types the named layout does not support.
    /// </summary>
    public void RestoreOptimizer(optim.Optimizer optimizer)
    {
        if (!CanResume)
            throw new CheckpointException(Path, "it holds weights only (no optimizer and random state), so a fit cannot resume from it");
        if (OptimizerStateTensors.IsStoredIn(_file))
        {
            OptimizerStateTensors.Restore(optimizer, _file);
            return;
        }
        using var bytes = _file.Load(OptimizerState);
        try
        {
            using var reader = new System.IO.BinaryReader(new System.IO.MemoryStream(bytes.data<byte>().ToArray()));
            Savable(optimizer).load_state_dict(reader);
        }
        catch (Exception e) when (e is System.IO.IOException or System.IO.InvalidDataException or ArgumentException or InvalidCastException
            or OverflowException or OutOfMemoryException or IndexOutOfRangeException or FormatException)
        {
            throw new CheckpointException(Path, $"its optimizer state does not fit this optimizer ({e.Message})", e);
        }
    }

    /// <summary>
    /// Checks the CPU random generator's state saved with the training state is one this libtorch accepts (libtorch
    /// aborts the process on one it does not): its dtype and size, then the fields libtorch checks (see <see cref="RandomState"/>).
    /// </summary>
    public void CheckRandomState()
    {
        using var rng = LoadRandomState();
    }

    /// <summary>Restores the CPU random generator's state saved with the training state, after <see cref="CheckRandomState"/>'s checks.</summary>
    public void RestoreRandomState()
    {
        using var rng = LoadRandomState();
        set_rng_state(rng);
    }

    private Tensor LoadRandomState()
    {
        var entry = _file.GetEntry(RngState);
        using (var current = get_rng_state())
        {
            if (entry.ScalarType != ScalarType.Byte || entry.Shape.Count != 1 || entry.Shape[0] != current.numel())
                throw new CheckpointException(Path, $"its '{RngState}' is {entry.ScalarType} [{string.Join(", ", entry.Shape)}]; expected Byte [{current.numel()}], the CPU generator state of this libtorch");
        }
        var rng = _file.Load(RngState);
        if (RandomState.Problem(rng.data<byte>().ToArray()) is string problem)
        {
            rng.Dispose();
            throw new CheckpointException(Path, $"its '{RngState}' is not a valid generator state: {problem}");
        }
        return rng;
    }

    /// <summary>The tensors the callback with state key <paramref name="stateKey"/> saved (<see cref="ICheckpointTensors"/>).</summary>
    public CheckpointTensors CallbackTensors(string stateKey) => new(_file, CallbackPrefix + stateKey + ".");

    /// <summary>A JSON document saved in the metadata under <paramref name="key"/>, or null when absent (older files). Duplicate keys are refused.</summary>
    public System.Text.Json.JsonDocument? JsonMetadata(string key) =>
        _file.Metadata.TryGetValue(key, out var json) ? CheckpointJson.Parse(json, Path, key) : null;

    /// <summary>TorchSharp's optimizers save their state through OptimizerHelper (all built-in ones derive from it).</summary>
    private static TorchSharp.Modules.OptimizerHelper Savable(optim.Optimizer optimizer) =>
        optimizer as TorchSharp.Modules.OptimizerHelper ?? throw new LightningException(
            $"The optimizer {optimizer.GetType().Name} cannot save its state (it does not derive from TorchSharp.Modules.OptimizerHelper), so checkpoints of it cannot resume a fit.");

    private long WholeNumber(string key, long max)
    {
        var text = Required(key);
        return long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var v) && v <= max
            ? v : throw new CheckpointException(Path, $"its metadata '{key}' is '{Shorten(text)}'; expected a whole number from 0 to {max}");
    }

    private bool? Boolean(string key) => !_file.Metadata.TryGetValue(key, out var v) ? null : v switch
    {
        "true" => true,
        "false" => false,
        _ => throw new CheckpointException(Path, $"its metadata '{key}' is '{Shorten(v)}'; expected true or false"),
    };

    private static string Shorten(string text) => text.Length > 40 ? text[..40] + "..." : text;

    private string Required(string key) =>
        _file.Metadata.TryGetValue(key, out var value) ? value : throw new CheckpointException(Path, $"its metadata has no '{key}'");
}
