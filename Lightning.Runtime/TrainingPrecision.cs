namespace Lightning;

/// <summary>
/// The floating-point precision of parameters and inputs: Lightning's <c>precision</c> flag. <see cref="Float32"/>,
/// <see cref="Float64"/> and <see cref="BFloat16"/> train; the others are Lightning's too, and the trainer refuses them
/// with the reason (<see cref="TrainerOptions.Precision"/>). (Not <c>Precision</c>: that is the classification metric,
/// <see cref="Metrics.Precision"/>.)
/// </summary>
public enum TrainingPrecision
{
    /// <summary><c>"32-true"</c>: every op in float32 (the default).</summary>
    Float32,
    /// <summary><c>"64-true"</c>: every op in float64.</summary>
    Float64,
    /// <summary><c>"bf16-true"</c>: parameters, inputs and every op in bfloat16.</summary>
    BFloat16,
    /// <summary>
    /// <c>"16-true"</c>: every op in float16. Refused: many of libtorch's CPU kernels have no float16 version; use
    /// <see cref="BFloat16"/> for 16-bit training on the CPU.
    /// </summary>
    Float16,
    /// <summary>
    /// <c>"16-mixed"</c>: automatic mixed precision in float16. Refused: it needs an autocast context and a gradient scaler,
    /// which TorchSharp 0.107 does not have.
    /// </summary>
    Float16Mixed,
    /// <summary>
    /// <c>"bf16-mixed"</c>: automatic mixed precision in bfloat16. Refused: it needs an autocast context, which TorchSharp
    /// 0.107 does not have; <see cref="BFloat16"/> runs every op in bfloat16 instead.
    /// </summary>
    BFloat16Mixed,
}

public static partial class LightningSpelling
{
    // Lightning: _PRECISION_INPUT_STR (less "transformer-engine") and the aliases of _PRECISION_INPUT_STR_ALIAS_CONVERSION =
    // {"64": "64-true", "32": "32-true", "16": "16-mixed", "bf16": "bf16-mixed"} (src/lightning/fabric/plugins/precision/precision.py),
    // which _convert_precision_to_unified_args applies (src/lightning/fabric/connector.py): "bf16" is mixed precision, not "bf16-true".
    private static readonly Spelling<TrainingPrecision> TrainingPrecisions = new(
        new[]
        {
            (TrainingPrecision.Float32, "32-true"), (TrainingPrecision.Float64, "64-true"), (TrainingPrecision.BFloat16, "bf16-true"),
            (TrainingPrecision.Float16, "16-true"), (TrainingPrecision.Float16Mixed, "16-mixed"), (TrainingPrecision.BFloat16Mixed, "bf16-mixed"),
        },
        new[] { ("32", TrainingPrecision.Float32), ("64", TrainingPrecision.Float64), ("16", TrainingPrecision.Float16Mixed), ("bf16", TrainingPrecision.BFloat16Mixed) },
        expected: "\"32-true\", \"64-true\" or \"bf16-true\" (or Lightning's \"16-true\", \"16-mixed\", \"bf16-mixed\", \"32\", \"64\", \"16\", \"bf16\")",
        helpNames: new[] { "32-true", "64-true", "bf16-true" });

    /// <summary>Lightning's spelling, e.g. <c>"32-true"</c> or <c>"16-mixed"</c>.</summary>
    public static string ToLightningString(this TrainingPrecision precision) => TrainingPrecisions.Format(precision);

    /// <summary>Reads Lightning's spellings (<c>"32-true"</c>, <c>"16-mixed"</c>, ...) and its aliases <c>"32"</c>, <c>"64"</c>, <c>"16"</c> and <c>"bf16"</c>.</summary>
    public static bool TryParse(string? text, out TrainingPrecision precision) => TrainingPrecisions.TryParse(text, out precision);
}
