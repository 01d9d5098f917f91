using System.Collections.Generic;
using System.Text.Json;

namespace Lightning;

/// <summary>One hyperparameter as shown in tables and written to JSON.</summary>
/// <param name="Name">The name in JSON, tables and command lines (snake_case, e.g. <c>learning_rate</c>).</param>
/// <param name="Value">The current value.</param>
/// <param name="Description">The description from <c>[Hyperparameter(Description = ...)]</c>, or null.</param>
public readonly record struct HyperParameter(string Name, object Value, string? Description);

/// <summary>A module's hyperparameters. The generated <c>HParams</c> record of each module implements it.</summary>
public interface IHyperParameters
{
    /// <summary>Every hyperparameter, in declaration order.</summary>
    IReadOnlyList<HyperParameter> Values { get; }

    /// <summary>Writes the hyperparameters as one JSON object.</summary>
    void WriteJson(Utf8JsonWriter writer);

    /// <summary>
    /// Checks every hyperparameter that declares a range (<c>[Hyperparameter(Min = ..., Max = ..., Choices = ...)]</c>): the first
    /// value outside its range is a <see cref="HyperParameterRangeException"/> naming <paramref name="source"/>. The generated
    /// <c>HParams</c> implement it; other implementations accept every value.
    /// </summary>
    void Validate(string source) { }
}
