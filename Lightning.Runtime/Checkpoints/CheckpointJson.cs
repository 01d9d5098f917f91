using System;
using System.Text.Json;

namespace Lightning.Checkpoints;

/// <summary>
/// Reads the JSON values a checkpoint's metadata holds (the scheduler's, the callbacks' and the metrics' states) with
/// their type and range checked: a value of the wrong kind or out of range is a <see cref="CheckpointException"/>
/// naming the file and the key, never an <see cref="InvalidOperationException"/> from <see cref="JsonElement"/>.
/// A callback's <c>LoadState</c> reads its own state with these.
/// </summary>
public static class CheckpointJson
{
    /// <summary>How every JSON value of a checkpoint is parsed: duplicate keys at any level are refused.</summary>
    public static readonly JsonDocumentOptions Options = new() { AllowDuplicateProperties = false, MaxDepth = 64 };

    /// <summary>Parses <paramref name="json"/>, the metadata value <paramref name="key"/> of <paramref name="path"/>.</summary>
    public static JsonDocument Parse(string json, string path, string key)
    {
        try { return JsonDocument.Parse(json, Options); }
        catch (JsonException e) { throw new CheckpointException(path, $"its metadata '{key}' is not valid JSON without duplicate keys ({e.Message})", e); }
    }

    /// <summary>Checks that <paramref name="value"/> (named <paramref name="key"/>) is a JSON object.</summary>
    public static JsonElement Object(JsonElement value, string path, string key) =>
        value.ValueKind == JsonValueKind.Object ? value : throw Wrong(path, key, value, "an object");

    /// <summary>The property <paramref name="name"/> of the object <paramref name="owner"/> (named <paramref name="key"/>); missing is an error.</summary>
    public static JsonElement Required(JsonElement owner, string name, string path, string key) =>
        Object(owner, path, key).TryGetProperty(name, out var value) ? value : throw new CheckpointException(path, $"'{key}' has no '{name}'");

    /// <summary>A whole number in [<paramref name="min"/>, <paramref name="max"/>].</summary>
    public static long WholeNumber(JsonElement value, string path, string key, long min = 0, long max = long.MaxValue)
    {
        if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt64(out long n)) throw Wrong(path, key, value, "a whole number");
        return n >= min && n <= max ? n : throw new CheckpointException(path, $"'{key}' is {n}; expected {Range(min, max)}");
    }

    /// <summary>A number (finite unless <paramref name="allowNonFinite"/>: then <c>null</c> reads as NaN) in [<paramref name="min"/>, <paramref name="max"/>].</summary>
    public static double Number(JsonElement value, string path, string key, double min = double.MinValue, double max = double.MaxValue, bool allowNonFinite = false)
    {
        if (allowNonFinite && value.ValueKind == JsonValueKind.Null) return double.NaN;
        if (value.ValueKind != JsonValueKind.Number || !value.TryGetDouble(out double d) || !double.IsFinite(d))
            throw Wrong(path, key, value, allowNonFinite ? "a number or null" : "a finite number");
        return d >= min && d <= max ? d : throw new CheckpointException(path, $"'{key}' is {d}; expected a number from {min} to {max}");
    }

    /// <summary>A string (or null when <paramref name="allowNull"/>).</summary>
    public static string? String(JsonElement value, string path, string key, bool allowNull = false)
    {
        if (value.ValueKind == JsonValueKind.String) return value.GetString();
        if (allowNull && value.ValueKind == JsonValueKind.Null) return null;
        throw Wrong(path, key, value, allowNull ? "a string or null" : "a string");
    }

    /// <summary>A JSON array.</summary>
    public static JsonElement Array(JsonElement value, string path, string key) =>
        value.ValueKind == JsonValueKind.Array ? value : throw Wrong(path, key, value, "an array");

    private static string Range(long min, long max) =>
        max == long.MaxValue ? $"a whole number of at least {min}" : $"a whole number from {min} to {max}";

    private static CheckpointException Wrong(string path, string key, JsonElement value, string expected)
    {
        var text = value.GetRawText();
        if (text.Length > 40) text = text[..40] + "...";
        return new CheckpointException(path, $"'{key}' is {value.ValueKind.ToString().ToLowerInvariant()} {text}; expected {expected}");
    }
}
