using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.Json;
using TorchSharp;
using static TorchSharp.torch;

namespace Lightning.Checkpoints;

/// <summary>
/// Stores an optimizer's state in a checkpoint as named, typed tensors, one set per parameter
/// (<c>optimizer.state.&lt;i&gt;.exp_avg</c>..., <c>i</c> numbering the parameters of all param groups in order, as
/// PyTorch's optimizer <c>state_dict</c> does), and its param groups' hyperparameters as JSON in the metadata
/// <c>optimizer</c>: <c>{"type": "adam", "param_groups": [{"lr": ..., "betas": [...], ..., "params": [0, 1]}]}</c>.
/// Restoring checks everything (type, groups, hyperparameters' JSON types and ranges, every tensor's presence, dtype,
/// shape and values) before the optimizer is changed. Supported types are listed in <see cref="OptimizerLayouts"/>;
/// for others <see cref="Write"/> returns false and the checkpoint keeps TorchSharp's opaque <c>optimizer.state</c> blob.
/// See docs/checkpoint-format.md.
/// </summary>
public static class OptimizerStateTensors
{
    /// <summary>The metadata key of the optimizer's type and param groups (JSON).</summary>
    public const string MetadataKey = "optimizer";

    /// <summary>The prefix of every optimizer tensor; a file stored this way holds no other tensor with it.</summary>
    public const string TensorPrefix = "optimizer.";

    /// <summary>The prefix of the per-parameter state tensors: <c>optimizer.state.&lt;i&gt;.&lt;name&gt;</c>.</summary>
    public const string StatePrefix = "optimizer.state.";

    internal const string TypeKey = "type";
    internal const string ParamGroupsKey = "param_groups";

    /// <summary>The type names this version reads and writes (<c>adam</c>, <c>adamw</c>, <c>sgd</c>, <c>rmsprop</c>, <c>adagrad</c>).</summary>
    public static IEnumerable<string> SupportedTypes => OptimizerLayouts.All.Select(l => l.Type);

    /// <summary>
    /// Appends <paramref name="optimizer"/>'s state tensors to <paramref name="tensors"/> and sets the
    /// <see cref="MetadataKey"/> metadata; returns false, adding nothing, when its type is not supported or its state
    /// cannot be stored as named tensors (e.g. a hyperparameter set out of range after construction).
    /// The appended tensors are the optimizer's own (not copies), except the step counts.
    /// </summary>
    public static bool Write(optim.Optimizer optimizer, List<(string, Tensor)> tensors, Dictionary<string, string> metadata)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        ArgumentNullException.ThrowIfNull(tensors);
        ArgumentNullException.ThrowIfNull(metadata);
        var layout = OptimizerLayouts.All.FirstOrDefault(l => l.Fits(optimizer));
        if (layout?.TryWrite(optimizer, tensors) is not { } json) return false;
        metadata[MetadataKey] = json;
        return true;
    }

    /// <summary>Whether <paramref name="file"/> stores an optimizer state this way (it has the <see cref="MetadataKey"/> metadata).</summary>
    public static bool IsStoredIn(SafetensorsFile file) => file.Metadata.ContainsKey(MetadataKey);

    /// <summary>
    /// Restores <paramref name="optimizer"/>'s hyperparameters and state from <paramref name="file"/>. Everything is
    /// checked first: the optimizer type, the number of groups and of parameters per group, each hyperparameter's
    /// JSON type and range, that the <c>optimizer.*</c> tensors are exactly the expected ones, with their parameter's
    /// dtype and shape (steps: <c>I64</c> scalars &gt;= 0), and that averages of squares are not negative.
    /// </summary>
    /// <exception cref="CheckpointException">Anything does not fit; the message names the file and the key, and the optimizer is unchanged.</exception>
    public static void Restore(optim.Optimizer optimizer, SafetensorsFile file)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        ArgumentNullException.ThrowIfNull(file);
        if (!file.Metadata.TryGetValue(MetadataKey, out var json))
            throw new CheckpointException(file.Path, $"its metadata has no '{MetadataKey}'");
        using var document = Parse(json, file.Path);
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object) throw BadMetadata(file.Path, "it is not a JSON object");
        foreach (var property in root.EnumerateObject())
            if (property.Name is not (TypeKey or ParamGroupsKey)) throw BadMetadata(file.Path, $"it has an unexpected key '{property.Name}'");
        if (!root.TryGetProperty(TypeKey, out var typeElement) || typeElement.ValueKind != JsonValueKind.String)
            throw BadMetadata(file.Path, $"it has no '{TypeKey}' string");
        if (!root.TryGetProperty(ParamGroupsKey, out var paramGroups))
            throw BadMetadata(file.Path, $"it has no '{ParamGroupsKey}'");

        string type = typeElement.GetString()!;
        var layout = OptimizerLayouts.All.FirstOrDefault(l => l.Type == type)
            ?? throw BadMetadata(file.Path, $"its type '{type}' is not one this version reads ({string.Join(", ", SupportedTypes)})");
        if (!layout.Fits(optimizer))
        {
            string current = OptimizerLayouts.All.FirstOrDefault(l => l.Fits(optimizer))?.Type ?? "unsupported";
            throw new CheckpointException(file.Path,
                $"its optimizer state (metadata '{MetadataKey}') is of type '{type}', but the optimizer is {optimizer.GetType().Name} ('{current}')");
        }
        var apply = layout.Prepare(optimizer, paramGroups, file);
        apply();
    }

    /// <summary>The exception for a problem in the <see cref="MetadataKey"/> metadata.</summary>
    internal static CheckpointException BadMetadata(string path, string problem) =>
        new(path, $"its metadata '{MetadataKey}' is invalid: {problem}");

    /// <summary>Parses the metadata JSON, refusing duplicate keys at any level.</summary>
    private static JsonDocument Parse(string json, string path)
    {
        try
        {
            return JsonDocument.Parse(json, new JsonDocumentOptions { AllowDuplicateProperties = false, MaxDepth = 8 });
        }
        catch (JsonException e)
        {
            throw BadMetadata(path, $"it is not valid JSON ({e.Message})");
        }
    }
}
