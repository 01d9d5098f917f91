using System;
using System.Globalization;
using System.Text.Json;
using TorchSharp.Modules;

namespace Lightning.Checkpoints;

/// <summary>
/// One param-group hyperparameter of a TorchSharp optimizer (a field of its <c>Options</c> class) as it is stored in a
/// checkpoint's <c>optimizer</c> metadata: written from the live options, read and checked into a scratch options
/// object, and copied onto the live options once everything has been checked.
/// </summary>
/// <typeparam name="TOptions">The optimizer's options class, e.g. <c>Adam.Options</c>.</typeparam>
internal abstract class GroupHyperparameter<TOptions>
    where TOptions : OptimizerOptions
{
    protected GroupHyperparameter(string name) => Name = name;

    /// <summary>The JSON key: PyTorch's name for the hyperparameter, e.g. <c>weight_decay</c>.</summary>
    public string Name { get; }

    /// <summary>Writes the property; false when the value is unset or out of range (then it cannot be stored).</summary>
    public abstract bool TryWrite(Utf8JsonWriter writer, TOptions options);

    /// <summary>
    /// Reads <paramref name="value"/> into <paramref name="into"/>; returns what is wrong with it (<c>is ...</c>, or
    /// <c>[i] is ...</c> for an item of an array), or null.
    /// </summary>
    public abstract string? Read(JsonElement value, TOptions into);

    /// <summary>Copies the value from <paramref name="from"/> (read by <see cref="Read"/>) to <paramref name="to"/>.</summary>
    public abstract void Copy(TOptions from, TOptions to);

    /// <summary>How a JSON value of the wrong kind is named in messages, e.g. <c>a string ("0.1")</c>.</summary>
    protected static string Describe(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => $"a string ({value.GetRawText()})",
        JsonValueKind.Number => $"a number ({value.GetRawText()})",
        JsonValueKind.True or JsonValueKind.False => $"a boolean ({value.GetRawText()})",
        JsonValueKind.Null => "null",
        JsonValueKind.Array => $"an array of {value.GetArrayLength()} items",
        _ => "an object",
    };
}

/// <summary>The values a numeric hyperparameter may take: finite, at least <see cref="Min"/>, and below <see cref="Below"/>.</summary>
/// <param name="Min">The smallest value allowed (<see cref="double.NegativeInfinity"/>: no lower bound).</param>
/// <param name="Below">The values must be less than this (<see cref="double.PositiveInfinity"/>: no upper bound).</param>
internal readonly record struct NumberRange(double Min, double Below)
{
    /// <summary>Any finite number.</summary>
    public static NumberRange Finite => new(double.NegativeInfinity, double.PositiveInfinity);

    /// <summary>A finite number &gt;= 0.</summary>
    public static NumberRange NonNegative => new(0, double.PositiveInfinity);

    /// <summary>A number in [0, 1) (Adam's betas).</summary>
    public static NumberRange Fraction => new(0, 1);

    /// <summary>Whether <paramref name="value"/> is allowed.</summary>
    /// <remarks>
    /// Every value must also fit a float32 (|value| at most <see cref="float.MaxValue"/>): libtorch applies these to float
    /// parameters and raises an error TorchSharp does not catch cleanly for one that overflows (seen with lr = 1e308).
    /// </remarks>
    public bool Contains(double value) => double.IsFinite(value) && Math.Abs(value) <= float.MaxValue && value >= Min && value < Below;

    /// <summary>The range in words, for messages.</summary>
    public override string ToString()
    {
        var ci = CultureInfo.InvariantCulture;
        if (double.IsPositiveInfinity(Below))
            return double.IsNegativeInfinity(Min) ? "a finite number within float32's range" : string.Create(ci, $"a number >= {Min} within float32's range");
        return string.Create(ci, $"a number in [{Min}, {Below})");
    }
}

/// <summary>A <c>double?</c> option (lr, eps, weight_decay, momentum...), stored as a JSON number in a <see cref="NumberRange"/>.</summary>
internal sealed class NumberHyperparameter<TOptions>(
    string name, Func<TOptions, double?> get, Action<TOptions, double> set, NumberRange range)
    : GroupHyperparameter<TOptions>(name)
    where TOptions : OptimizerOptions
{
    public override bool TryWrite(Utf8JsonWriter writer, TOptions options)
    {
        if (get(options) is not { } value || !range.Contains(value)) return false;
        writer.WriteNumber(Name, value);
        return true;
    }

    public override string? Read(JsonElement value, TOptions into)
    {
        if (value.ValueKind != JsonValueKind.Number) return $"is {Describe(value)}, not a number";
        if (!value.TryGetDouble(out double number) || !range.Contains(number)) return $"is {value.GetRawText()}; it must be {range}";
        set(into, number);
        return null;
    }

    public override void Copy(TOptions from, TOptions to) => set(to, get(from)!.Value);
}

/// <summary>A <c>bool?</c> option (amsgrad, nesterov, maximize...), stored as JSON <c>true</c> or <c>false</c>.</summary>
internal sealed class FlagHyperparameter<TOptions>(string name, Func<TOptions, bool?> get, Action<TOptions, bool> set)
    : GroupHyperparameter<TOptions>(name)
    where TOptions : OptimizerOptions
{
    public override bool TryWrite(Utf8JsonWriter writer, TOptions options)
    {
        if (get(options) is not { } value) return false;
        writer.WriteBoolean(Name, value);
        return true;
    }

    public override string? Read(JsonElement value, TOptions into)
    {
        if (value.ValueKind is not (JsonValueKind.True or JsonValueKind.False)) return $"is {Describe(value)}, not true or false";
        set(into, value.GetBoolean());
        return null;
    }

    public override void Copy(TOptions from, TOptions to) => set(to, get(from)!.Value);
}

/// <summary>Two <c>double?</c> options stored as one JSON array of two numbers, as PyTorch stores Adam's <c>betas</c>.</summary>
internal sealed class PairHyperparameter<TOptions>(
    string name, Func<TOptions, (double?, double?)> get, Action<TOptions, (double, double)> set, NumberRange range)
    : GroupHyperparameter<TOptions>(name)
    where TOptions : OptimizerOptions
{
    public override bool TryWrite(Utf8JsonWriter writer, TOptions options)
    {
        if (get(options) is not ({ } first, { } second) || !range.Contains(first) || !range.Contains(second)) return false;
        writer.WriteStartArray(Name);
        writer.WriteNumberValue(first);
        writer.WriteNumberValue(second);
        writer.WriteEndArray();
        return true;
    }

    public override string? Read(JsonElement value, TOptions into)
    {
        if (value.ValueKind != JsonValueKind.Array || value.GetArrayLength() != 2) return $"is {Describe(value)}, not an array of two numbers";
        var numbers = new double[2];
        for (int i = 0; i < 2; i++)
        {
            var item = value[i];
            if (item.ValueKind != JsonValueKind.Number) return $"[{i}] is {Describe(item)}, not a number";
            if (!item.TryGetDouble(out numbers[i]) || !range.Contains(numbers[i])) return $"[{i}] is {item.GetRawText()}; it must be {range}";
        }
        set(into, (numbers[0], numbers[1]));
        return null;
    }

    public override void Copy(TOptions from, TOptions to)
    {
        var (first, second) = get(from);
        set(to, (first!.Value, second!.Value));
    }
}
