using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;
using System.Text.RegularExpressions;

namespace Lightning.Callbacks;

/// <summary>
/// Lightning's checkpoint file-name template (<c>ModelCheckpoint._format_checkpoint_name</c>): each <c>{name}</c> or
/// <c>{name:spec}</c> becomes <c>name=value</c> (or just the value without the auto-inserted name), with the subset of
/// Python's format specification that file names use: <c>d</c> with a width and zero fill (<c>{epoch:03d}</c> →
/// <c>003</c>), <c>.Nf</c>, <c>.Ne</c>, <c>%</c>, a width. A name with no value is 0, as Lightning's. A <c>/</c> in the
/// template stays (the file goes to a subfolder); other characters a file name cannot hold become <c>_</c>.
/// </summary>
public static partial class FilenameTemplate
{
    /// <summary>Expands <paramref name="template"/> with <paramref name="values"/> (metrics, <c>epoch</c> and <c>step</c>).</summary>
    public static string Format(string template, IReadOnlyDictionary<string, double> values, bool autoInsertMetricName = true)
    {
        var result = Placeholder().Replace(template, m =>
        {
            var name = m.Groups["name"].Value;
            var spec = m.Groups["spec"].Success ? m.Groups["spec"].Value : "";
            double value = values.TryGetValue(name, out var v) ? v : 0;
            bool integral = name is "epoch" or "step" || !values.ContainsKey(name);
            var text = FormatValue(value, spec, integral, name, template);
            return autoInsertMetricName ? name + "=" + text : text;
        });
        var clean = new StringBuilder(result.Length);
        var invalid = System.IO.Path.GetInvalidFileNameChars();
        foreach (char c in result) clean.Append(c != '/' && (c == '\\' || Array.IndexOf(invalid, c) >= 0) ? '_' : c);
        return clean.ToString();
    }

    /// <summary>Formats one value as Python's <c>format(value, spec)</c> does for the specs file names use.</summary>
    public static string FormatValue(double value, string spec, bool integral, string name, string template)
    {
        var ci = CultureInfo.InvariantCulture;
        var m = Spec().Match(spec);
        if (!m.Success)
            throw new LightningException($"ModelCheckpoint.Filename '{template}': the format ':{spec}' of '{name}' is not supported; use e.g. ':03d', ':.5f' or ':.3e'.");
        bool zero = m.Groups["zero"].Success;
        int width = m.Groups["width"].Success ? int.Parse(m.Groups["width"].Value, ci) : 0;
        int? precision = m.Groups["prec"].Success ? int.Parse(m.Groups["prec"].Value, ci) : null;
        string type = m.Groups["type"].Value;
        string text = type switch
        {
            "d" => ((long)Math.Truncate(value)).ToString(ci),
            "f" or "F" => value.ToString("F" + (precision ?? 6), ci),
            "e" or "E" => Exponent(value, precision ?? 6, type == "E"),
            "%" => (value * 100).ToString("F" + (precision ?? 6), ci) + "%",
            _ when precision is not null => throw new LightningException(
                $"ModelCheckpoint.Filename '{template}': the format ':{spec}' of '{name}' is not supported; add a type, e.g. ':{spec}f'."),
            _ => integral && value == Math.Truncate(value) && Math.Abs(value) < 1e15 ? ((long)value).ToString(ci) : PythonRepr(value),
        };
        if (text.Length >= width) return text;
        if (!zero) return text.PadLeft(width);
        bool negative = text.StartsWith('-');
        return negative ? "-" + text[1..].PadLeft(width - 1, '0') : text.PadLeft(width, '0');
    }

    /// <summary>A float as Python's <c>str</c> writes it: the shortest round-trip digits, with <c>.0</c> on whole numbers.</summary>
    private static string PythonRepr(double value)
    {
        if (double.IsNaN(value)) return "nan";
        if (double.IsInfinity(value)) return value > 0 ? "inf" : "-inf";
        var text = value.ToString("R", CultureInfo.InvariantCulture);
        return text.Contains('.') || text.Contains('E') ? text.Replace("E", "e") : text + ".0";
    }

    /// <summary>Python's <c>e</c> format: a mantissa with <paramref name="precision"/> decimals and an exponent of at least two digits.</summary>
    private static string Exponent(double value, int precision, bool upper)
    {
        var text = value.ToString((precision == 0 ? "0" : "0." + new string('0', precision)) + "e+00", CultureInfo.InvariantCulture);
        return upper ? text.ToUpperInvariant() : text;
    }

    [GeneratedRegex(@"\{(?<name>[^{}:]+)(:(?<spec>[^}]*))?\}")]
    private static partial Regex Placeholder();

    [GeneratedRegex(@"^(?<zero>0)?(?<width>[1-9]\d*)?(?:\.(?<prec>\d{1,2}))?(?<type>[dfFeE%])?$")]
    private static partial Regex Spec();
}
