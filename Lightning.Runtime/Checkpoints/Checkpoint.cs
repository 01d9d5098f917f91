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

    /// <summary>The optimizer's state (TorchSharp's optimizer state format, as bytes).</summary>
    public const string OptimizerState = "optimizer.state";

    /// <summary>The CPU random generator's state.</summary>
    public const string RngState = "rng.torch_cpu";

    private readonly SafetensorsFile _file;

    private Checkpoint(SafetensorsFile file) => _file = file;

    /// <summary>The file.</summary>
    public string Path => _file.Path;

    /// <summary>The type name of the module that was saved (e.g. <c>FashionMnist.FashionCnn</c>).</summary>
    public string ModuleType => Required("module_type");

    /// <summary>The saved hyperparameters, as JSON.</summary>
    public string HParamsJson => Required("hparams");

    /// <summary>The epoch the checkpoint was written in (from 0).</summary>
    public int Epoch => (int)WholeNumber("epoch", int.MaxValue);

    /// <summary>Optimizer steps taken when the checkpoint was written.</summary>
    public long GlobalStep => WholeNumber("global_step", long.MaxValue);

    /// <summary>Training batches of <see cref="Epoch"/> that had run when the checkpoint was written (0 in older files).</summary>
    public long BatchInEpoch => _file.Metadata.ContainsKey("batch_in_epoch") ? WholeNumber("batch_in_epoch", long.MaxValue) : 0;

    /// <summary>
    /// True when <see cref="Epoch"/>'s training batches had all run (the checkpoint was written at the end of the
    /// epoch's validation or the epoch itself); false for a checkpoint written within the epoch.
    /// </summary>
    public bool EpochFinished => !_file.Metadata.TryGetValue("epoch_finished", out var v) || v == "true";

    /// <summary>True when the end of <see cref="Epoch"/> (its callbacks and scheduler step) had run when the checkpoint was written.</summary>
    public bool EpochEndDone => _file.Metadata.TryGetValue("epoch_end_done", out var v) ? v == "true" : !_file.Metadata.ContainsKey("scheduler");

    /// <summary>Training batches run in the whole fit when the checkpoint was written (Ignite's iteration count).</summary>
    public long Iteration => _file.Metadata.ContainsKey("iteration") ? WholeNumber("iteration", long.MaxValue) : 0;

    /// <summary>
    /// Writes <paramref name="module"/>'s weights and hyperparameters to <paramref name="path"/>, atomically; with
    /// <paramref name="state"/>, also what resuming a fit needs: the loop position, the optimizer's state, the
    /// scheduler's and the callbacks' states, the logged metrics and the random generator's state.
    /// </summary>
    public static void Save(string path, ILightningModule module, TrainingState? state = null)
    {
        ArgumentNullException.ThrowIfNull(module);
        module.RegisterComponentsOnce();
        var tensors = module.Module.state_dict().Select(kv => (ModelPrefix + kv.Key, kv.Value)).ToList();
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
            using var buffer = new System.IO.MemoryStream();
            using (var writer = new System.IO.BinaryWriter(buffer, System.Text.Encoding.UTF8, leaveOpen: true))
                Savable(state.Optimizer).save_state_dict(writer);
            tensors.Add((OptimizerState, tensor(buffer.ToArray())));
            tensors.Add((RngState, get_rng_state()));
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
        }
        SafetensorsFile.Write(path, tensors, metadata);
    }

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
    /// Builds the module from <paramref name="hparams"/> with <paramref name="build"/> (the generated code: <c>Create</c>, then
    /// <c>RegisterComponents</c>). Anything thrown while building (TorchSharp's native error for a 0-sized layer, an
    /// ArgumentException, OutOfMemoryException) is a <see cref="CheckpointException"/> naming the file and listing the
    /// hyperparameters, not a crash deep inside TorchSharp.
    /// </summary>
    public TModule Build<THParams, TModule>(THParams hparams, Func<THParams, TModule> build)
        where THParams : IHyperParameters
    {
        ArgumentNullException.ThrowIfNull(build);
        try
        {
            return build(hparams);
        }
        catch (Exception e)
        {
            var values = string.Join(", ", hparams.Values.Select(v => v.Name + "=" + (v.Value is bool b ? (b ? "true" : "false") : Convert.ToString(v.Value, CultureInfo.InvariantCulture))));
            var reason = e.Message.Split('\n')[0].Trim();   // libtorch appends a C++ backtrace on further lines
            throw new CheckpointException(Path, $"building {typeof(TModule).Name} from its saved hyperparameters ({values}) failed: {reason}", e);
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

        using var noGrad = no_grad();
        foreach (var (key, tensor) in target)
        {
            using var value = _file.Load(ModelPrefix + key);
            tensor.copy_(value);
        }
    }

    /// <summary>True when the checkpoint holds what resuming a fit needs (optimizer and random state).</summary>
    public bool CanResume => _file.Contains(OptimizerState) && _file.Contains(RngState);

    /// <summary>Restores the optimizer's state (for resuming a fit).</summary>
    public void RestoreOptimizer(optim.Optimizer optimizer)
    {
        if (!CanResume)
            throw new CheckpointException(Path, "it holds weights only (no optimizer and random state), so a fit cannot resume from it");
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

    /// <summary>Restores the CPU random generator's state saved with the training state.</summary>
    public void RestoreRandomState()
    {
        using var rng = _file.Load(RngState);
        set_rng_state(rng);
    }

    /// <summary>A JSON document saved in the metadata under <paramref name="key"/>, or null when absent (older files).</summary>
    public System.Text.Json.JsonDocument? JsonMetadata(string key)
    {
        if (!_file.Metadata.TryGetValue(key, out var json)) return null;
        try { return System.Text.Json.JsonDocument.Parse(json); }
        catch (System.Text.Json.JsonException e) { throw new CheckpointException(Path, $"its metadata '{key}' is not valid JSON ({e.Message})", e); }
    }

    /// <summary>TorchSharp's optimizers save their state through OptimizerHelper (all built-in ones derive from it).</summary>
    private static TorchSharp.Modules.OptimizerHelper Savable(optim.Optimizer optimizer) =>
        optimizer as TorchSharp.Modules.OptimizerHelper ?? throw new LightningException(
            $"The optimizer {optimizer.GetType().Name} cannot save its state (it does not derive from TorchSharp.Modules.OptimizerHelper), so checkpoints of it cannot resume a fit.");

    private long WholeNumber(string key, long max) =>
        long.TryParse(Required(key), NumberStyles.None, CultureInfo.InvariantCulture, out var v) && v <= max
            ? v : throw new CheckpointException(Path, $"its metadata '{key}' is not a whole number");

    private string Required(string key) =>
        _file.Metadata.TryGetValue(key, out var value) ? value : throw new CheckpointException(Path, $"its metadata has no '{key}'");
}
