using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;

namespace Lightning.Cli;

/// <summary>Parses command-line and config-file values, with errors that name the option and what it expects.</summary>
internal static class CliValues
{
    /// <summary>
    /// <paramref name="text"/> as a <typeparamref name="T"/> (bool, int, long, float, double, string, an enum, their
    /// nullable forms, <see cref="BatchLimit"/>, <see cref="TimeSpan"/>); null and the reason when it is not one.
    /// </summary>
    public static bool TryParse<T>(string text, out T value, out string expected)
    {
        var type = Nullable.GetUnderlyingType(typeof(T)) ?? typeof(T);
        bool nullable = Nullable.GetUnderlyingType(typeof(T)) is not null;
        value = default!;
        expected = Expected(type, nullable);
        if (nullable && text is "null" or "none" or "")
            return true;
        var ci = CultureInfo.InvariantCulture;
        object? parsed = null;
        if (type == typeof(string)) parsed = text;
        else if (type == typeof(bool)) parsed = text.ToLowerInvariant() switch { "" or "true" or "1" or "yes" => true, "false" or "0" or "no" => false, _ => null };
        else if (type == typeof(int)) parsed = int.TryParse(text, NumberStyles.Integer, ci, out var i) ? i : null;
        else if (type == typeof(long)) parsed = long.TryParse(text, NumberStyles.Integer, ci, out var l) ? l : null;
        else if (type == typeof(float)) parsed = float.TryParse(text, NumberStyles.Float, ci, out var f) && float.IsFinite(f) ? f : null;
        else if (type == typeof(double)) parsed = double.TryParse(text, NumberStyles.Float, ci, out var d) && double.IsFinite(d) ? d : null;
        else if (type == typeof(BatchLimit)) parsed = ParseLimit(text);
        else if (type == typeof(TimeSpan)) parsed = ParseTime(text);
        else if (type.IsEnum) parsed = ParseEnum(type, text);
        if (parsed is null) return false;
        value = (T)parsed;
        return true;
    }

    /// <summary>What a <typeparamref name="T"/> value looks like, for error messages (e.g. "a whole number").</summary>
    public static string Describe<T>() =>
        Expected(Nullable.GetUnderlyingType(typeof(T)) ?? typeof(T), Nullable.GetUnderlyingType(typeof(T)) is not null);

    private static string Expected(Type type, bool nullable)
    {
        string what =
            type == typeof(bool) ? "true or false" :
            type == typeof(int) ? "a whole number" :
            type == typeof(long) ? "a whole number" :
            type == typeof(float) || type == typeof(double) ? "a number" :
            type == typeof(BatchLimit) ? "a number of batches (e.g. 10) or a fraction in [0, 1] (e.g. 0.25)" :
            type == typeof(TimeSpan) ? "a duration DD:HH:MM:SS or HH:MM:SS" :
            type.IsEnum ? LightningSpelling.Of(type)?.Expected ?? "one of " + string.Join(", ", Enum.GetNames(type)) :
            "text";
        return nullable ? what + " (or null)" : what;
    }

    /// <summary>
    /// An enum value: Lightning's spelling for Lightning's enums (exactly, as its flags: "16-mixed", "min"), else the C# name
    /// in any case (a user's enum hyperparameter).
    /// </summary>
    private static object? ParseEnum(Type type, string text)
    {
        if (LightningSpelling.Of(type) is { } spelling) return spelling.TryParse(text, out var value) ? value : null;
        return Enum.TryParse(type, text, ignoreCase: true, out var e) && Enum.IsDefined(type, e!) ? e : null;
    }

    /// <summary>The spellings --help shows for a value of <paramref name="type"/>; null when it is not an enum.</summary>
    public static IReadOnlyList<string>? EnumNames(Type type)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        return !type.IsEnum ? null : LightningSpelling.Of(type)?.HelpNames ?? Enum.GetNames(type);
    }

    private static object? ParseLimit(string text)
    {
        var ci = CultureInfo.InvariantCulture;
        if (long.TryParse(text, NumberStyles.None, ci, out var n)) return BatchLimit.Batches(n);   // "1": one batch; "1.0": all
        if (double.TryParse(text, NumberStyles.Float, ci, out var f) && f is >= 0 and <= 1) return BatchLimit.Share(f);
        return null;
    }

    private static object? ParseTime(string text)
    {
        var parts = text.Split(':');
        if (parts.Length is not (3 or 4) || parts.Any(p => !int.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out _))) return null;
        var n = Array.ConvertAll(parts, p => int.Parse(p, CultureInfo.InvariantCulture));
        var span = parts.Length == 4 ? new TimeSpan(n[0], n[1], n[2], n[3]) : new TimeSpan(n[0], n[1], n[2]);
        return span > TimeSpan.Zero ? span : null;
    }

    /// <summary>A value as it is written back to a config file (the inverse of <see cref="TryParse"/>).</summary>
    public static string Format(object? value) => value switch
    {
        null => "null",
        bool b => b ? "true" : "false",
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        float f => f.ToString("R", CultureInfo.InvariantCulture),
        TimeSpan t => $"{t.Days:00}:{t.Hours:00}:{t.Minutes:00}:{t.Seconds:00}",
        // A fraction keeps its decimal point ("1.0" is the whole loader, "1" one batch), as Lightning's float vs int.
        BatchLimit limit => limit.ToString(),
        Enum e when LightningSpelling.Of(e.GetType()) is { } spelling => spelling.Format(e),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };
}
