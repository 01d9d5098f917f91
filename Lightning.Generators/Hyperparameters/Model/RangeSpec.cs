using Lightning.Generators.Helpers;

namespace Lightning.Generators.Hyperparameters.Model;

/// <summary>
/// The values a hyperparameter accepts, from <c>[Hyperparameter(Min = ..., Max = ..., Choices = ...)]</c>: only the
/// valid parts (a bound that LTN0019 reports is left out, so the generated code always compiles).
/// </summary>
/// <param name="Min">The lower bound as a C# literal of the hyperparameter's type (<c>1</c>, <c>0D</c>), or null.</param>
/// <param name="Max">The upper bound as a C# literal, or null.</param>
/// <param name="Choices">The allowed strings of a string hyperparameter; empty for any.</param>
/// <param name="Summary">The range in words for <c>--help</c>: "at least 1", "at least 0 and at most 1", "one of adam, sgd".</param>
internal sealed record RangeSpec(string? Min, string? Max, EquatableArray<string> Choices, string Summary);
