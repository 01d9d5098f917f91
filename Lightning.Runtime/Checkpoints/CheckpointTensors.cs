using System;
using System.Collections.Generic;
using System.Linq;
using static TorchSharp.torch;

namespace Lightning.Checkpoints;

/// <summary>
/// A callback whose state includes tensors (e.g. averaged weights), which do not belong in the JSON of
/// <see cref="ICallback.SaveState"/>. The trainer stores them in the checkpoint as named tensors
/// <c>callbacks.&lt;StateKey&gt;.&lt;name&gt;</c> (<see cref="Checkpoint.CallbackPrefix"/>) and gives them back on resume, after
/// the callback's <see cref="ICallback.LoadState"/>. The callback must have a <see cref="ICallback.StateKey"/>.
/// </summary>
public interface ICheckpointTensors
{
    /// <summary>
    /// Called when a checkpoint with the training state is written: adds this callback's tensors to <paramref name="tensors"/>
    /// (names without the prefix; the tensors are read while the file is written, not kept). <paramref name="modelWeights"/>
    /// holds what the file stores as the module's weights (<c>model.&lt;state_dict key&gt;</c>), the module's own tensors to
    /// begin with: a callback may replace values (same keys, dtypes and shapes), as Lightning's <c>WeightAveraging</c> puts the
    /// averaged weights there so that <c>LoadFromCheckpoint</c> gives them.
    /// </summary>
    void SaveTensors(IDictionary<string, Tensor> tensors, IDictionary<string, Tensor> modelWeights);

    /// <summary>
    /// Called when a fit resumes from a checkpoint that holds this callback's state, after <see cref="ICallback.LoadState"/>:
    /// <paramref name="saved"/> reads this callback's tensors, each checked for its dtype and shape. The module holds the
    /// checkpoint's <c>model.*</c> weights at this point.
    /// </summary>
    void LoadTensors(CheckpointTensors saved);
}

/// <summary>
/// The tensors one callback saved in a checkpoint (<c>callbacks.&lt;StateKey&gt;.*</c>): every read checks the tensor's dtype
/// and shape, and anything missing, mis-shaped or unreadable is a <see cref="CheckpointException"/> naming the file and the
/// tensor's full name.
/// </summary>
public sealed class CheckpointTensors
{
    private readonly SafetensorsFile _file;

    internal CheckpointTensors(SafetensorsFile file, string prefix)
    {
        _file = file;
        Prefix = prefix;
    }

    /// <summary>The checkpoint file.</summary>
    public string Path => _file.Path;

    /// <summary>The prefix of this callback's tensors in the file: <c>callbacks.&lt;StateKey&gt;.</c>.</summary>
    public string Prefix { get; }

    /// <summary>The names of this callback's tensors (without the prefix), in file order.</summary>
    public IReadOnlyList<string> Names =>
        _file.Tensors.Where(e => e.Name.StartsWith(Prefix, StringComparison.Ordinal)).Select(e => e.Name[Prefix.Length..]).ToList();

    /// <summary>Whether the checkpoint holds this callback's tensor <paramref name="name"/>.</summary>
    public bool Contains(string name) => _file.Contains(Prefix + name);

    /// <summary>Checks that tensor <paramref name="name"/> is in the file with <paramref name="dtype"/> and <paramref name="shape"/>.</summary>
    /// <exception cref="CheckpointException">It is missing or has another dtype or shape.</exception>
    public void Check(string name, ScalarType dtype, ReadOnlySpan<long> shape)
    {
        string full = Prefix + name;
        if (!_file.Contains(full))
            throw new CheckpointException(Path, $"it has no tensor '{full}' (the state of a callback is incomplete)");
        var entry = _file.GetEntry(full);
        if (entry.ScalarType != dtype || !entry.Shape.SequenceEqual(shape.ToArray()))
            throw new CheckpointException(Path,
                $"its tensor '{full}' is {entry.ScalarType} [{string.Join(", ", entry.Shape)}]; expected {dtype} [{string.Join(", ", shape.ToArray())}]");
    }

    /// <summary>Loads tensor <paramref name="name"/> as a new CPU tensor (the caller disposes it), after <see cref="Check"/>.</summary>
    public Tensor Load(string name, ScalarType dtype, ReadOnlySpan<long> shape)
    {
        Check(name, dtype, shape);
        return _file.Load(Prefix + name);
    }

    /// <summary>Copies tensor <paramref name="name"/> into <paramref name="target"/> (same dtype and shape, any device), without gradients.</summary>
    public void CopyTo(string name, Tensor target)
    {
        ArgumentNullException.ThrowIfNull(target);
        using var value = Load(name, target.dtype, target.shape);
        using var noGrad = no_grad();
        target.copy_(value);
    }

    /// <summary>A <see cref="CheckpointException"/> about this callback's saved state, naming the file.</summary>
    public CheckpointException Error(string problem) => new(Path, problem);

    /// <summary>
    /// Refuses tensors of callback <paramref name="callback"/> in the file beyond <paramref name="expected"/> (names under
    /// <see cref="Prefix"/>): a CheckpointException naming them, before anything changes.
    /// </summary>
    public void ExpectOnly(ISet<string> expected, string callback)
    {
        ArgumentNullException.ThrowIfNull(expected);
        var unexpected = Names.Where(n => !expected.Contains(n)).ToList();
        if (unexpected.Count > 0)
            throw Error($"it has tensors of callback '{callback}' that the module does not have: {string.Join(", ", unexpected.Select(n => Prefix + n))}");
    }

    /// <summary>
    /// The tensors of <paramref name="callbacks"/> for a checkpoint of <paramref name="module"/>: each <see cref="ICheckpointTensors"/>
    /// callback's under its prefix, and the module's weights as the callbacks left them (null when no callback replaced any).
    /// A callback that adds tensors without a state key, replaces a weight with one of another dtype or shape, or adds a key
    /// the module does not have, is a bug: a <see cref="LightningException"/>, before anything is written.
    /// </summary>
    internal static (List<(string Name, Tensor Tensor)> Tensors, IReadOnlyDictionary<string, Tensor>? ModelWeights) Collect(
        IEnumerable<ICallback> callbacks, ILightningModule module)
    {
        var tensors = new List<(string, Tensor)>();
        Dictionary<string, Tensor>? weights = null;
        Dictionary<string, Tensor>? original = null;
        foreach (var callback in callbacks)
        {
            if (callback is not ICheckpointTensors withTensors) continue;
            var key = callback.StateKey ?? throw new LightningException(
                $"{callback.GetType().Name} saves tensors in checkpoints (ICheckpointTensors) but has no StateKey to name them by.");
            original ??= new Dictionary<string, Tensor>(module.Module.state_dict(), StringComparer.Ordinal);
            weights ??= new Dictionary<string, Tensor>(original, StringComparer.Ordinal);
            var own = new Dictionary<string, Tensor>(StringComparer.Ordinal);
            withTensors.SaveTensors(own, weights);
            foreach (var (name, tensor) in own) tensors.Add((Checkpoint.CallbackPrefix + key + "." + name, tensor));
        }
        if (weights is null || original is null) return (tensors, null);
        foreach (var (name, tensor) in weights)
        {
            if (!original.TryGetValue(name, out var was) || was.dtype != tensor.dtype || !was.shape.SequenceEqual(tensor.shape))
                throw new LightningException($"A callback replaced the module's weight '{name}' for a checkpoint with one the module does not have (another name, dtype or shape).");
        }
        if (weights.Count != original.Count)
            throw new LightningException("A callback removed some of the module's weights from a checkpoint.");
        bool replaced = weights.Any(kv => !ReferenceEquals(kv.Value, original[kv.Key]));
        return (tensors, replaced ? weights : null);
    }

    /// <summary>
    /// On resume: gives each <see cref="ICheckpointTensors"/> callback whose state the checkpoint holds its tensors. A callback
    /// tensor in the file whose callback is not in this fit was already reported with its JSON state (a warning, or an error
    /// with <see cref="TrainerOptions.StrictCallbackStates"/>).
    /// </summary>
    internal static void Restore(IEnumerable<ICallback> callbacks, Checkpoint checkpoint, System.Text.Json.JsonElement states)
    {
        foreach (var callback in callbacks)
        {
            if (callback is not ICheckpointTensors withTensors || callback.StateKey is not string key || !states.TryGetProperty(key, out _)) continue;
            withTensors.LoadTensors(checkpoint.CallbackTensors(key));
        }
    }
}
