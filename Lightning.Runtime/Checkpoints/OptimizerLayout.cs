using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Lightning.Checkpoints;

/// <summary>
/// How one TorchSharp optimizer type's state is stored as named tensors (<c>optimizer.state.&lt;i&gt;.&lt;name&gt;</c>)
/// and its param groups' hyperparameters as JSON (the <c>param_groups</c> of the <c>optimizer</c> metadata).
/// The catalogue is <see cref="OptimizerLayouts"/>; <see cref="OptimizerStateTensors"/> uses it.
/// </summary>
internal abstract class OptimizerLayout
{
    /// <summary>The name stored as the metadata's <c>type</c>, e.g. <c>adam</c>.</summary>
    public abstract string Type { get; }

    /// <summary>Whether <paramref name="optimizer"/> is exactly this layout's optimizer type (a subclass may keep other state).</summary>
    public abstract bool Fits(optim.Optimizer optimizer);

    /// <summary>
    /// Appends the state tensors of <paramref name="optimizer"/> (which <see cref="Fits"/>) to <paramref name="tensors"/>
    /// and returns the metadata JSON; null, with nothing appended, when its state cannot be stored in this layout
    /// (an unset or out-of-range hyperparameter, a state tensor missing or not shaped like its parameter).
    /// </summary>
    public abstract string? TryWrite(optim.Optimizer optimizer, List<(string, Tensor)> tensors);

    /// <summary>
    /// Checks the saved <paramref name="paramGroups"/> and every <c>optimizer.*</c> tensor of <paramref name="file"/>
    /// against <paramref name="optimizer"/> (which <see cref="Fits"/>) and loads the tensors, changing nothing in the
    /// optimizer; returns the action that then sets the optimizer's hyperparameters and state.
    /// </summary>
    /// <exception cref="CheckpointException">Anything does not fit; the optimizer is unchanged.</exception>
    public abstract Action Prepare(optim.Optimizer optimizer, JsonElement paramGroups, SafetensorsFile file);
}

/// <summary>
/// The layout of one optimizer type, described by its hyperparameters (fields of <typeparamref name="TOptions"/>),
/// its per-parameter step counter and its per-parameter state tensors (fields of <typeparamref name="TState"/>).
/// Built with the fluent methods (<see cref="Number"/>, <see cref="Flag"/>, <see cref="Pair"/>, <see cref="Step"/>,
/// <see cref="StateTensor"/>); the learning rates <c>lr</c> and <c>initial_lr</c> are always included.
/// </summary>
internal sealed class OptimizerLayout<TOptimizer, TOptions, TState> : OptimizerLayout
    where TOptimizer : OptimizerHelper
    where TOptions : OptimizerOptions, new()
    where TState : OptimizerState
{
    private const string ParamsKey = "params";
    private const string StepName = "step";

    private readonly List<GroupHyperparameter<TOptions>> _hyperparameters = new();
    private readonly List<StateTensorSlot> _slots = new();
    private (Func<TState, long> Get, Action<TState, long> Set)? _step;
    private Func<TOptions, string?> _groupRule = _ => null;

    public OptimizerLayout(string type)
    {
        Type = type;
        Number("lr", o => o.LearningRate, (o, v) => o.LearningRate = v, NumberRange.NonNegative);
        Number("initial_lr", o => o.InitialLearningRate, (o, v) => o.InitialLearningRate = v, NumberRange.NonNegative);
    }

    public override string Type { get; }

    /// <summary>A numeric hyperparameter.</summary>
    public OptimizerLayout<TOptimizer, TOptions, TState> Number(string name, Func<TOptions, double?> get, Action<TOptions, double> set, NumberRange range)
    {
        _hyperparameters.Add(new NumberHyperparameter<TOptions>(name, get, set, range));
        return this;
    }

    /// <summary>A boolean hyperparameter.</summary>
    public OptimizerLayout<TOptimizer, TOptions, TState> Flag(string name, Func<TOptions, bool?> get, Action<TOptions, bool> set)
    {
        _hyperparameters.Add(new FlagHyperparameter<TOptions>(name, get, set));
        return this;
    }

    /// <summary>A pair of numbers stored as one JSON array (Adam's betas).</summary>
    public OptimizerLayout<TOptimizer, TOptions, TState> Pair(
        string name, Func<TOptions, (double?, double?)> get, Action<TOptions, (double, double)> set, NumberRange range)
    {
        _hyperparameters.Add(new PairHyperparameter<TOptions>(name, get, set, range));
        return this;
    }

    /// <summary>A rule across a group's hyperparameters: returns what is wrong, or null.</summary>
    public OptimizerLayout<TOptimizer, TOptions, TState> Rule(Func<TOptions, string?> rule)
    {
        _groupRule = rule;
        return this;
    }

    /// <summary>The per-parameter step counter, stored as an <c>I64</c> scalar <c>optimizer.state.&lt;i&gt;.step</c> (&gt;= 0).</summary>
    public OptimizerLayout<TOptimizer, TOptions, TState> Step(Func<TState, long> get, Action<TState, long> set)
    {
        _step = (get, set);
        return this;
    }

    /// <summary>
    /// A per-parameter state tensor with its parameter's dtype and shape: required when <paramref name="requiredWhen"/>
    /// holds for the group's hyperparameters (always when null), optional otherwise (TorchSharp leaves it null);
    /// <paramref name="nonNegative"/> for running averages of squares, whose negative values are refused.
    /// </summary>
    public OptimizerLayout<TOptimizer, TOptions, TState> StateTensor(
        string name, Func<TState, Tensor?> get, Action<TState, Tensor?> set, Func<TOptions, bool>? requiredWhen = null, bool nonNegative = false)
    {
        _slots.Add(new StateTensorSlot(name, get, set, requiredWhen ?? (_ => true), nonNegative));
        return this;
    }

    public override bool Fits(optim.Optimizer optimizer) => optimizer.GetType() == typeof(TOptimizer);

    public override string? TryWrite(optim.Optimizer optimizer, List<(string, Tensor)> tensors)
    {
        var groups = Groups((TOptimizer)optimizer);
        if (groups is null) return null;
        var named = new List<(string, Tensor)>();
        var steps = new List<Tensor>();
        using var buffer = new MemoryStream();
        bool written;
        using (var json = new Utf8JsonWriter(buffer))
            written = TryWrite(groups, json, named, steps);
        if (!written)
        {
            foreach (var step in steps) step.Dispose();
            return null;
        }
        tensors.AddRange(named);
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    private bool TryWrite(List<Group> groups, Utf8JsonWriter json, List<(string, Tensor)> named, List<Tensor> steps)
    {
        json.WriteStartObject();
        json.WriteString(OptimizerStateTensors.TypeKey, Type);
        json.WriteStartArray(OptimizerStateTensors.ParamGroupsKey);
        int index = 0;
        foreach (var group in groups)
        {
            json.WriteStartObject();
            foreach (var hyperparameter in _hyperparameters)
                if (!hyperparameter.TryWrite(json, group.Options)) return false;
            if (_groupRule(group.Options) is not null) return false;
            json.WriteStartArray(ParamsKey);
            foreach (var (parameter, state) in group.Parameters)
            {
                json.WriteNumberValue(index);
                if (_step is { } step)
                {
                    long value = step.Get(state);
                    if (value < 0) return false;
                    var scalar = torch.tensor(value);
                    steps.Add(scalar);
                    named.Add((TensorName(index, StepName), scalar));
                }
                foreach (var slot in _slots)
                {
                    var tensor = slot.Get(state);
                    if (tensor is null)
                    {
                        if (slot.RequiredWhen(group.Options)) return false;
                        continue;
                    }
                    if (tensor.dtype != parameter.dtype || !tensor.shape.SequenceEqual(parameter.shape)) return false;
                    named.Add((TensorName(index, slot.Name), tensor));
                }
                index++;
            }
            json.WriteEndArray();
            json.WriteEndObject();
        }
        json.WriteEndArray();
        json.WriteEndObject();
        return true;
    }

    public override Action Prepare(optim.Optimizer optimizer, JsonElement paramGroups, SafetensorsFile file)
    {
        var groups = Groups((TOptimizer)optimizer)
            ?? throw new CheckpointException(file.Path, $"the optimizer's param groups are not those of a TorchSharp {typeof(TOptimizer).Name}, so its state cannot be restored");
        var saved = ReadGroups(groups, paramGroups, file.Path);
        var expected = ExpectedTensors(groups, saved);
        CheckEntries(expected, file);
        var loaded = Load(expected, file);
        return () => Apply(groups, saved, loaded);
    }

    /// <summary>Reads and checks each saved group's hyperparameters (into new options objects) and its <c>params</c>.</summary>
    private List<TOptions> ReadGroups(List<Group> groups, JsonElement paramGroups, string path)
    {
        if (paramGroups.ValueKind != JsonValueKind.Array)
            throw OptimizerStateTensors.BadMetadata(path, $"'{OptimizerStateTensors.ParamGroupsKey}' is not an array");
        int count = paramGroups.GetArrayLength();
        if (count != groups.Count)
            throw OptimizerStateTensors.BadMetadata(path, $"it has {count} param groups, but the optimizer has {groups.Count}");
        var saved = new List<TOptions>(count);
        int first = 0;
        for (int g = 0; g < count; g++)
        {
            string at = $"{OptimizerStateTensors.ParamGroupsKey}[{g}]";
            var element = paramGroups[g];
            if (element.ValueKind != JsonValueKind.Object)
                throw OptimizerStateTensors.BadMetadata(path, $"{at} is not an object");
            var options = new TOptions();
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var property in element.EnumerateObject())
            {
                seen.Add(property.Name);
                if (property.Name == ParamsKey)
                {
                    CheckParams(property.Value, first, groups[g].Parameters.Count, $"{at}.{ParamsKey}", path);
                    continue;
                }
                var hyperparameter = _hyperparameters.FirstOrDefault(h => h.Name == property.Name)
                    ?? throw OptimizerStateTensors.BadMetadata(path, $"{at} has an unexpected key '{property.Name}'");
                if (hyperparameter.Read(property.Value, options) is { } problem)   // "is ..." or, for an array item, "[1] is ..."
                    throw OptimizerStateTensors.BadMetadata(path, $"{at}.{property.Name}{(problem.StartsWith('[') ? "" : " ")}{problem}");
            }
            var missing = _hyperparameters.Select(h => h.Name).Append(ParamsKey).Where(name => !seen.Contains(name)).ToList();
            if (missing.Count > 0)
                throw OptimizerStateTensors.BadMetadata(path, $"{at} has no {string.Join(", ", missing.Select(m => $"'{m}'"))}");
            if (_groupRule(options) is { } broken)
                throw OptimizerStateTensors.BadMetadata(path, $"{at}: {broken}");
            saved.Add(options);
            first += groups[g].Parameters.Count;
        }
        return saved;
    }

    /// <summary>A group's <c>params</c> must be the indices the optimizer's group has, in order: first, first+1, ...</summary>
    private static void CheckParams(JsonElement value, int first, int count, string at, string path)
    {
        var expected = Enumerable.Range(first, count).ToList();
        bool fits = value.ValueKind == JsonValueKind.Array && value.GetArrayLength() == count
            && value.EnumerateArray().Select((item, i) => item.ValueKind == JsonValueKind.Number && item.TryGetInt32(out int index) && index == expected[i]).All(ok => ok);
        if (!fits)
        {
            string saved = value.GetRawText();
            if (saved.Length > 80) saved = saved[..80] + "...";
            throw OptimizerStateTensors.BadMetadata(path, $"{at} is {saved}, but the optimizer's group has the parameters [{string.Join(", ", expected)}]");
        }
    }

    /// <summary>Every tensor name the file may hold, with the dtype and shape it must have and whether it is required.</summary>
    private Dictionary<string, ExpectedTensor> ExpectedTensors(List<Group> groups, List<TOptions> saved)
    {
        var expected = new Dictionary<string, ExpectedTensor>(StringComparer.Ordinal);
        int index = 0;
        for (int g = 0; g < groups.Count; g++)
        {
            foreach (var (parameter, _) in groups[g].Parameters)
            {
                if (_step is not null)
                    expected[TensorName(index, StepName)] = new ExpectedTensor(index, null, ScalarType.Int64, Array.Empty<long>(), Required: true);
                foreach (var slot in _slots)
                    expected[TensorName(index, slot.Name)] = new ExpectedTensor(index, slot, parameter.dtype, parameter.shape, slot.RequiredWhen(saved[g]));
                index++;
            }
        }
        return expected;
    }

    /// <summary>Checks the file's <c>optimizer.*</c> entries (header only): none missing, none unexpected, each of the expected dtype and shape.</summary>
    private static void CheckEntries(Dictionary<string, ExpectedTensor> expected, SafetensorsFile file)
    {
        var problems = new List<string>();
        var unexpected = file.Tensors.Select(e => e.Name)
            .Where(n => n.StartsWith(OptimizerStateTensors.TensorPrefix, StringComparison.Ordinal) && !expected.ContainsKey(n)).ToList();
        var missing = expected.Where(kv => kv.Value.Required && !file.Contains(kv.Key)).Select(kv => kv.Key).ToList();
        if (missing.Count > 0) problems.Add("missing tensors: " + string.Join(", ", missing));
        if (unexpected.Count > 0) problems.Add("unexpected tensors: " + string.Join(", ", unexpected));
        foreach (var (name, want) in expected)
        {
            if (!file.Contains(name)) continue;
            var entry = file.GetEntry(name);
            if (entry.ScalarType != want.ScalarType || !entry.Shape.SequenceEqual(want.Shape))
                problems.Add($"'{name}' is {entry.ScalarType} [{string.Join(", ", entry.Shape)}] in the file but must be {want.ScalarType} [{string.Join(", ", want.Shape)}]");
        }
        if (problems.Count > 0)
            throw new CheckpointException(file.Path, "its optimizer state does not fit the optimizer: " + string.Join("; ", problems));
    }

    /// <summary>Loads the present tensors and checks their values (steps &gt;= 0, averages of squares &gt;= 0); disposes them all on failure.</summary>
    private static LoadedState Load(Dictionary<string, ExpectedTensor> expected, SafetensorsFile file)
    {
        var loaded = new LoadedState();
        try
        {
            foreach (var (name, want) in expected)
            {
                if (!file.Contains(name)) continue;
                var tensor = file.Load(name);
                if (want.Slot is null)
                {
                    using (tensor) loaded.Steps[want.Index] = tensor.item<long>();
                    if (loaded.Steps[want.Index] < 0)
                        throw new CheckpointException(file.Path, $"its optimizer tensor '{name}' is {loaded.Steps[want.Index]}; a step count must be >= 0");
                    continue;
                }
                loaded.Tensors[name] = tensor.DetachFromDisposeScope();
                if (want.Slot.NonNegative && HasNegative(tensor))
                    throw new CheckpointException(file.Path, $"its optimizer tensor '{name}' has negative values; it is a running average of squares");
            }
            return loaded;
        }
        catch
        {
            loaded.Dispose();
            throw;
        }
    }

    private static bool HasNegative(Tensor tensor)
    {
        using var negative = tensor.lt(0);
        using var any = negative.any();
        return any.item<bool>();
    }

    /// <summary>Sets the checked hyperparameters and state; cannot fail for a reason the checks could have found.</summary>
    private void Apply(List<Group> groups, List<TOptions> saved, LoadedState loaded)
    {
        int index = 0;
        for (int g = 0; g < groups.Count; g++)
        {
            foreach (var hyperparameter in _hyperparameters) hyperparameter.Copy(saved[g], groups[g].Options);
            foreach (var (parameter, state) in groups[g].Parameters)
            {
                if (_step is { } step) step.Set(state, loaded.Steps[index]);
                foreach (var slot in _slots)
                {
                    var old = slot.Get(state);
                    var value = loaded.Tensors.Remove(TensorName(index, slot.Name), out var tensor) ? OnDeviceOf(tensor, parameter) : null;
                    slot.Set(state, value);
                    if (old is not null && !ReferenceEquals(old, value)) old.Dispose();
                }
                index++;
            }
        }
    }

    /// <summary>The loaded (CPU) tensor on <paramref name="parameter"/>'s device, outside any dispose scope.</summary>
    private static Tensor OnDeviceOf(Tensor tensor, Parameter parameter)
    {
        if (parameter.device_type == DeviceType.CPU) return tensor;
        var moved = tensor.to(parameter.device).DetachFromDisposeScope();
        tensor.Dispose();
        return moved;
    }

    private static string TensorName(int index, string name) =>
        string.Create(CultureInfo.InvariantCulture, $"{OptimizerStateTensors.StatePrefix}{index}.{name}");

    /// <summary>The optimizer's groups with their live options and (parameter, state) pairs, in PyTorch's flattened order; null when the types differ.</summary>
    private static List<Group>? Groups(TOptimizer optimizer)
    {
        var dictionary = optimizer.state_dict();
        var controllers = optimizer.ParamGroups.ToList();
        if (controllers.Count != dictionary.Options.Count) return null;
        var groups = new List<Group>(controllers.Count);
        for (int g = 0; g < controllers.Count; g++)
        {
            if (controllers[g] is not ParamGroup group || dictionary.Options[g] is not TOptions options) return null;
            var parameters = group.Parameters.ToList();
            var indices = dictionary.StateIndexRef[g];
            if (indices.Count != parameters.Count) return null;
            var pairs = new List<(Parameter, TState)>(parameters.Count);
            for (int p = 0; p < parameters.Count; p++)
            {
                if (dictionary.State[indices[p]] is not TState state) return null;
                pairs.Add((parameters[p], state));
            }
            groups.Add(new Group(options, pairs));
        }
        return groups;
    }

    /// <summary>A param group: its live options and its parameters with their state.</summary>
    private sealed record Group(TOptions Options, List<(Parameter Parameter, TState State)> Parameters);

    /// <summary>A state tensor field of <typeparamref name="TState"/>.</summary>
    private sealed record StateTensorSlot(
        string Name, Func<TState, Tensor?> Get, Action<TState, Tensor?> Set, Func<TOptions, bool> RequiredWhen, bool NonNegative);

    /// <summary>What a tensor of the file must be: parameter <paramref name="Index"/>'s step (no slot) or one of its state tensors.</summary>
    private sealed record ExpectedTensor(int Index, StateTensorSlot? Slot, ScalarType ScalarType, IReadOnlyList<long> Shape, bool Required);

    /// <summary>The checked values waiting to be applied: step counts by parameter index, tensors by name.</summary>
    private sealed class LoadedState : IDisposable
    {
        public Dictionary<int, long> Steps { get; } = new();

        public Dictionary<string, Tensor> Tensors { get; } = new(StringComparer.Ordinal);

        public void Dispose()
        {
            foreach (var tensor in Tensors.Values) tensor.Dispose();
            Tensors.Clear();
        }
    }
}
