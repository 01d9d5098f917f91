using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using Lightning.Generators.Helpers;
using Lightning.Generators.Hyperparameters.Model;
using Microsoft.CodeAnalysis;

namespace Lightning.Generators.Hyperparameters;

/// <summary>
/// Reads <c>Min</c>, <c>Max</c> and <c>Choices</c> of a <c>[Hyperparameter]</c> attribute. The generator keeps the valid
/// parts (<see cref="RangeSpec"/>); the module analyzer reports every problem (LTN0019). Both use this one reader, so
/// what the analyzer accepts is exactly what the generated <c>Validate</c> checks.
/// </summary>
internal static class RangeParser
{
    public const string MinArgument = "Min";
    public const string MaxArgument = "Max";
    public const string ChoicesArgument = "Choices";

    /// <summary>What an attribute declares: the bounds normalized to the hyperparameter's type, the choices, and each mistake.</summary>
    internal sealed class Declared
    {
        public HyperparameterKind Kind;
        public double? Min;
        public double? Max;
        public string[]? Choices;
        public readonly List<(string Argument, string Problem)> Problems = new();
        public bool IsEmpty => Min is null && Max is null && Choices is null;
    }

    /// <summary>Reads the range arguments of <paramref name="attribute"/> for a hyperparameter of <paramref name="kind"/>.</summary>
    public static Declared Read(AttributeData attribute, HyperparameterKind kind, string typeName)
    {
        var declared = new Declared { Kind = kind };
        double? min = null, max = null;
        foreach (var arg in attribute.NamedArguments)
        {
            switch (arg.Key)
            {
                case MinArgument when arg.Value.Value is double d && !double.IsNaN(d): min = d; break;
                case MaxArgument when arg.Value.Value is double d && !double.IsNaN(d): max = d; break;
                case ChoicesArgument when !arg.Value.IsNull && arg.Value.Kind == TypedConstantKind.Array:
                    declared.Choices = arg.Value.Values.Select(v => v.Value as string).ToArray()!;
                    break;
            }
        }

        bool numeric = kind is HyperparameterKind.Int32 or HyperparameterKind.Int64 or HyperparameterKind.Single or HyperparameterKind.Double;
        if (kind == HyperparameterKind.Unsupported) return declared;   // LTN0007 already reports the type.
        if (!numeric && (min is not null || max is not null))
        {
            var argument = min is not null ? MinArgument : MaxArgument;
            declared.Problems.Add((argument, $"has {argument}, but Min and Max apply only to int, long, float and double hyperparameters; it is a {Simple(typeName)}"
                + (kind == HyperparameterKind.String ? " (use Choices to list its allowed values)" : "")));
            min = max = null;
        }
        if (declared.Choices is not null && kind != HyperparameterKind.String)
        {
            declared.Problems.Add((ChoicesArgument, $"has Choices, but Choices apply only to string hyperparameters; it is a {Simple(typeName)}"
                + (numeric ? " (use Min and Max)" : "")));
            declared.Choices = null;
        }
        if (declared.Choices is { Length: 0 })
        {
            declared.Problems.Add((ChoicesArgument, "has an empty Choices list, so no value would be accepted; list the allowed values or leave Choices out"));
            declared.Choices = null;
        }
        else if (declared.Choices is not null && declared.Choices.Any(c => c is null))
        {
            declared.Problems.Add((ChoicesArgument, "has null in its Choices; list strings only"));
            declared.Choices = null;
        }

        declared.Min = Bound(min, MinArgument, kind, typeName, declared.Problems);
        declared.Max = Bound(max, MaxArgument, kind, typeName, declared.Problems);
        if (declared.Min is double lo && declared.Max is double hi && lo > hi)
        {
            declared.Problems.Add((MinArgument, $"has Min = {Display(lo, kind)} greater than Max = {Display(hi, kind)}, so no value would be accepted"));
            declared.Min = declared.Max = null;
        }
        return declared;
    }

    /// <summary>A bound that fits the type, converted to the value the generated code compares with; null and a problem otherwise.</summary>
    private static double? Bound(double? bound, string argument, HyperparameterKind kind, string typeName, List<(string, string)> problems)
    {
        if (bound is not double b) return null;
        string? problem = null;
        if (double.IsInfinity(b)) problem = $"has {argument} = {Display(b)}; leave {argument} out for no bound";
        else if (kind is HyperparameterKind.Int32 or HyperparameterKind.Int64 && b != System.Math.Floor(b))
            problem = $"has {argument} = {Display(b)}, which is not a whole number, but it is a {Simple(typeName)}";
        else if (kind == HyperparameterKind.Int32 && (b < int.MinValue || b > int.MaxValue)
                 || kind == HyperparameterKind.Int64 && (b < -9.2233720368547758E18 || b >= 9.2233720368547758E18)
                 || kind == HyperparameterKind.Single && System.Math.Abs(b) > float.MaxValue)
            problem = $"has {argument} = {Display(b)}, beyond the values of {Simple(typeName)}";
        if (problem is not null)
        {
            problems.Add((argument, problem));
            return null;
        }
        // A float compares with the bound rounded to float, as the generated literal is.
        return kind == HyperparameterKind.Single ? (double)(float)b : b;
    }

    /// <summary>The problem with a hyperparameter's default value (outside its own range), or null when it fits.</summary>
    public static string? DefaultProblem(Declared declared, object? defaultValue)
    {
        if (defaultValue is string s && declared.Choices is { } choices)
            return choices.Contains(s) ? null
                : $"has the default \"{s}\", which is not one of its Choices ({string.Join(", ", choices)})";
        if (defaultValue is not (int or long or float or double) || (declared.Min is null && declared.Max is null)) return null;
        double value = System.Convert.ToDouble(defaultValue, CultureInfo.InvariantCulture);
        var k = declared.Kind;
        if (double.IsNaN(value)) return "has the default NaN, which is outside any range";
        if (declared.Min is double lo && value < lo) return $"has the default {Display(value, k)}, below its Min of {Display(lo, k)}";
        if (declared.Max is double hi && value > hi) return $"has the default {Display(value, k)}, above its Max of {Display(hi, k)}";
        return null;
    }

    /// <summary>The generator's model of the valid parts, or null when the hyperparameter declares no range.</summary>
    public static RangeSpec? Spec(Declared declared, HyperparameterKind kind)
    {
        if (declared.IsEmpty) return null;
        string? Literal(double? bound) => bound is not double b ? null : kind switch
        {
            HyperparameterKind.Int32 => ((int)b).ToString(CultureInfo.InvariantCulture),
            HyperparameterKind.Int64 => ((long)b).ToString(CultureInfo.InvariantCulture) + "L",
            HyperparameterKind.Single => ((float)b).ToString("R", CultureInfo.InvariantCulture) + "F",
            _ => b.ToString("R", CultureInfo.InvariantCulture) + "D",
        };
        var summary = declared.Choices is { } choices ? "one of " + string.Join(", ", choices)
            : declared.Min is double lo && declared.Max is double hi ? $"at least {Display(lo, kind)} and at most {Display(hi, kind)}"
            : declared.Min is double min ? $"at least {Display(min, kind)}"
            : $"at most {Display(declared.Max!.Value, kind)}";
        return new RangeSpec(Literal(declared.Min), Literal(declared.Max), (declared.Choices ?? new string[0]).ToEquatableArray(), summary);
    }

    /// <summary>A number as people write it (1, 0.5, 1E-05), as the runtime shows values in its messages; a float as a float.</summary>
    internal static string Display(double value, HyperparameterKind kind = HyperparameterKind.Double) =>
        double.IsPositiveInfinity(value) ? "Infinity" : double.IsNegativeInfinity(value) ? "-Infinity"
        : kind == HyperparameterKind.Single ? ((float)value).ToString("R", CultureInfo.InvariantCulture)
        : value.ToString("R", CultureInfo.InvariantCulture);

    private static string Simple(string typeName) => typeName.Replace("global::", "") switch
    {
        "int" or "System.Int32" => "int",
        "long" or "System.Int64" => "long",
        "float" or "System.Single" => "float",
        "double" or "System.Double" => "double",
        "string" or "System.String" => "string",
        "bool" or "System.Boolean" => "bool",
        var other => other,
    };
}
