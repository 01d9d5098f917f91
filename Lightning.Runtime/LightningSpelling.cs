using System;
using System.Collections.Generic;
using System.Linq;

namespace Lightning;

/// <summary>
/// PyTorch Lightning's spellings of the values of Lightning's option enums (<c>"min"</c>, <c>"16-mixed"</c>,
/// <c>"single_device"</c>). The command line, config files, checkpoint state keys, messages and --help all read them
/// here; each enum's spellings are written once, beside the enum (the parts of this class in <c>MonitorMode.cs</c>,
/// <c>TrainingPrecision.cs</c>, ...). Parsing is exact, lowercase, as Lightning's flags: <c>TryParse("min", out MonitorMode m)</c>.
/// </summary>
public static partial class LightningSpelling
{
    /// <summary>The spellings of the enum <paramref name="type"/>; null for an enum without them (a user's, read by its C# names).</summary>
    internal static ISpelling? Of(Type type) =>
        type == typeof(MonitorMode) ? MonitorModes :
        type == typeof(Interval) ? Intervals :
        type == typeof(TrainingPrecision) ? TrainingPrecisions :
        type == typeof(Strategy) ? Strategies :
        type == typeof(GradientClipAlgorithm) ? GradientClipAlgorithms :
        type == typeof(MetricReduction) ? MetricReductions :
        type == typeof(ProfilerKind) ? ProfilerKinds :
        null;
}

/// <summary>An enum's spellings, without its type (for the command line, which handles every option's type alike).</summary>
internal interface ISpelling
{
    /// <summary>The values' spellings, in declaration order (aliases not included).</summary>
    IReadOnlyList<string> Names { get; }

    /// <summary>The spellings --help shows: <see cref="Names"/>, less those the trainer refuses.</summary>
    IReadOnlyList<string> HelpNames { get; }

    /// <summary>What the value may be, for messages: <c>"min" or "max"</c>.</summary>
    string Expected { get; }

    /// <summary>The value spelled <paramref name="text"/> (a name or an alias; exact, case-sensitive).</summary>
    bool TryParse(string? text, out object? value);

    /// <summary>The spelling of <paramref name="value"/>.</summary>
    string Format(object value);
}

/// <summary>
/// The spellings of <typeparamref name="TEnum"/>: one name per value (what is written back) and aliases that read as a
/// value (Lightning's <c>"32"</c> for <c>"32-true"</c>).
/// </summary>
internal sealed class Spelling<TEnum> : ISpelling where TEnum : struct, Enum
{
    private readonly (TEnum Value, string Text)[] _names;
    private readonly (string Text, TEnum Value)[] _aliases;

    public Spelling((TEnum Value, string Text)[] names, (string Text, TEnum Value)[]? aliases = null, string? expected = null, string[]? helpNames = null)
    {
        _names = names;
        _aliases = aliases ?? Array.Empty<(string, TEnum)>();
        foreach (var value in Enum.GetValues<TEnum>())
            if (!names.Any(n => EqualityComparer<TEnum>.Default.Equals(n.Value, value)))
                throw new InvalidOperationException($"{typeof(TEnum).Name}.{value} has no spelling.");
        Names = names.Select(n => n.Text).ToArray();
        HelpNames = helpNames ?? Names;
        Expected = expected ?? QuotedList(Names);
    }

    public IReadOnlyList<string> Names { get; }

    public IReadOnlyList<string> HelpNames { get; }

    public string Expected { get; }

    public bool TryParse(string? text, out TEnum value)
    {
        foreach (var (v, t) in _names)
            if (string.Equals(t, text, StringComparison.Ordinal)) { value = v; return true; }
        foreach (var (t, v) in _aliases)
            if (string.Equals(t, text, StringComparison.Ordinal)) { value = v; return true; }
        value = default;
        return false;
    }

    /// <summary>The value's name; a number cast to the enum that names no value is written as the number.</summary>
    public string Format(TEnum value)
    {
        foreach (var (v, t) in _names)
            if (EqualityComparer<TEnum>.Default.Equals(v, value)) return t;
        return Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture).ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    bool ISpelling.TryParse(string? text, out object? value)
    {
        bool ok = TryParse(text, out var v);
        value = ok ? v : null;
        return ok;
    }

    string ISpelling.Format(object value) => Format((TEnum)value);

    /// <summary><c>"a", "b" or "c"</c>.</summary>
    public static string QuotedList(IReadOnlyList<string> names) =>
        names.Count == 1 ? $"\"{names[0]}\"" : string.Join(", ", names.SkipLast(1).Select(n => $"\"{n}\"")) + $" or \"{names[^1]}\"";
}
