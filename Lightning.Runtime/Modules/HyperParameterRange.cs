using System;
using System.Globalization;
using System.Linq;
using System.Numerics;

namespace Lightning;

/// <summary>
/// The range checks of hyperparameters declared with <c>[Hyperparameter(Min = ..., Max = ..., Choices = ...)]</c>. The
/// generated <c>HParams.Validate</c> calls one of these per bounded hyperparameter; the messages are written here once.
/// </summary>
public static class HyperParameterRange
{
    /// <summary>
    /// Throws a <see cref="HyperParameterRangeException"/> when <paramref name="value"/> is below <paramref name="min"/>,
    /// above <paramref name="max"/> (both inclusive, null for no bound) or NaN.
    /// </summary>
    public static void Check<T>(string source, string name, T value, T? min = null, T? max = null) where T : struct, INumber<T>
    {
        if (min is null && max is null) return;
        if (T.IsNaN(value) || (min is T lo && value < lo) || (max is T hi && value > hi))
            throw new HyperParameterRangeException(source, name, Format(value), Expected(min, max), isChoice: false);
    }

    /// <summary>Throws a <see cref="HyperParameterRangeException"/> when <paramref name="value"/> is not exactly one of <paramref name="choices"/>.</summary>
    public static void CheckChoice(string source, string name, string value, params string[] choices)
    {
        if (choices.Length == 0 || choices.Contains(value, StringComparer.Ordinal)) return;
        throw new HyperParameterRangeException(source, name, Format(value), "one of " + string.Join(", ", choices), isChoice: true);
    }

    /// <summary>The range in words: "at least 1", "at most 1", "at least 0 and at most 1".</summary>
    public static string Expected<T>(T? min, T? max) where T : struct, INumber<T> => (min, max) switch
    {
        ({ } lo, { } hi) => $"at least {Format(lo)} and at most {Format(hi)}",
        ({ } lo, null) => $"at least {Format(lo)}",
        (null, { } hi) => $"at most {Format(hi)}",
        _ => "any value",
    };

    /// <summary>A value as the messages show it: numbers in invariant culture (0.001, 1E-05), strings quoted, booleans as true/false.</summary>
    public static string Format(object? value) => value switch
    {
        null => "null",
        string s => "\"" + (s.Length > 40 ? s[..40] + "..." : s) + "\"",
        bool b => b ? "true" : "false",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };
}

/// <summary>
/// A hyperparameter's value is outside the range its <c>[Hyperparameter(Min = ..., Max = ..., Choices = ...)]</c> declares.
/// The message is one line naming where the value came from, the hyperparameter (its JSON name), the value and the range:
/// <c>hyperparameters of Classifier: 'batch_size' is 0; expected at least 1.</c>
/// </summary>
public sealed class HyperParameterRangeException : LightningException
{
    /// <summary>Creates the exception; <paramref name="value"/> and <paramref name="expected"/> are already formatted.</summary>
    public HyperParameterRangeException(string origin, string name, string value, string expected, bool isChoice)
        : base($"{origin}: '{name}' is {value}; expected {expected}.")
    {
        Origin = origin;
        Name = name;
        Value = value;
        Expected = expected;
        IsChoice = isChoice;
    }

    /// <summary>Where the value came from: a config file, "saved hyperparameters", "hyperparameters of Classifier".</summary>
    public string Origin { get; }

    /// <summary>The hyperparameter's JSON name (snake_case, e.g. <c>batch_size</c>); the command-line option is <c>--batch-size</c>.</summary>
    public string Name { get; }

    /// <summary>The value, as the message shows it.</summary>
    public string Value { get; }

    /// <summary>The range in words ("at least 1", "one of adam, sgd").</summary>
    public string Expected { get; }

    /// <summary>True when the hyperparameter has a list of choices rather than bounds.</summary>
    public bool IsChoice { get; }

    /// <summary>The message for a command-line option: <c>--batch-size: 0 is out of range; expected at least 1.</c></summary>
    public string ForOption(string option) =>
        $"{option}: {Value} {(IsChoice ? "is not allowed" : "is out of range")}; expected {Expected}.";
}
