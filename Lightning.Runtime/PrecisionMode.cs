using TorchSharp;

namespace Lightning;

/// <summary>Lightning's <c>precision</c> flag, resolved to the floating-point type of parameters and inputs.</summary>
internal static class PrecisionMode
{
    /// <summary>The floating-point type for <paramref name="precision"/>; precisions this build cannot run are refused with the reason.</summary>
    public static torch.ScalarType Parse(TrainingPrecision precision) => precision switch
    {
        TrainingPrecision.Float32 => torch.ScalarType.Float32,
        TrainingPrecision.Float64 => torch.ScalarType.Float64,
        TrainingPrecision.BFloat16 => torch.ScalarType.BFloat16,
        TrainingPrecision.Float16Mixed or TrainingPrecision.BFloat16Mixed => throw Refused(
            $"is \"{precision.ToLightningString()}\", which needs automatic mixed precision: an autocast context that runs each op in half " +
            "precision and a gradient scaler. TorchSharp 0.107 has neither (no torch.autocast and no torch.cuda.amp.GradScaler), and " +
            "they only pay off on CUDA, which this build does not have; expected \"32-true\", \"64-true\" or \"bf16-true\" (every op in bfloat16)"),
        TrainingPrecision.Float16 => throw Refused(
            "is \"16-true\" (every op in float16), which the CPU does not support: many of libtorch's CPU kernels have no " +
            "float16 version; expected \"bf16-true\" for 16-bit training on the CPU, or \"32-true\" or \"64-true\""),
        _ => throw Refused($"has the unknown value {(int)precision}; expected \"32-true\", \"64-true\" or \"bf16-true\""),
    };

    private static OptionException Refused(string problem) => new(nameof(TrainerOptions), nameof(TrainerOptions.Precision), problem);
}
