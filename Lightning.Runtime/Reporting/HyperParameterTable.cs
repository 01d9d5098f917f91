using System;
using System.Globalization;
using System.Linq;
using System.Text;

namespace Lightning;

/// <summary>The hyperparameters as a table: name and value, and a description column when any has one.</summary>
public static class HyperParameterTable
{
    /// <summary>Formats <paramref name="hparams"/>: a header, a rule, then one row per hyperparameter; every row has the header's columns.</summary>
    public static string Format(IHyperParameters hparams)
    {
        var values = hparams.Values;
        if (values.Count == 0) return "(no hyperparameters)";
        var rows = values.Select(v => (v.Name, Value: FormatValue(v.Value), Description: v.Description ?? "")).ToList();
        bool described = rows.Any(r => r.Description.Length > 0);
        int wn = Math.Max("Hyperparameter".Length, rows.Max(r => r.Name.Length));
        int wv = Math.Max("Value".Length, rows.Max(r => r.Value.Length));
        int wd = described ? Math.Max("Description".Length, rows.Max(r => r.Description.Length)) : 0;
        var sb = new StringBuilder();
        void Row(string name, string value, string description)
        {
            sb.Append(name.PadRight(wn)).Append(" | ").Append(described ? value.PadRight(wv) : value);
            if (described) sb.Append(" | ").Append(description);
            sb.Append('\n');
        }
        Row("Hyperparameter", "Value", "Description");
        sb.Append('-', wn + 3 + wv + (described ? 3 + wd : 0)).Append('\n');
        foreach (var r in rows) Row(r.Name, r.Value, r.Description);
        return sb.ToString().TrimEnd();
    }

    /// <summary>Formats one value invariantly (round-trippable numbers, strings as they are).</summary>
    public static string FormatValue(object value) => value switch
    {
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        float f => f.ToString("R", CultureInfo.InvariantCulture),
        bool b => b ? "true" : "false",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value?.ToString() ?? "null",
    };
}
