using TorchSharp;

namespace Lightning;

/// <summary>Lightning's <c>precision</c> flag, resolved to the floating-point type of parameters and inputs.</summary>
internal static class PrecisionMode
{
    /// <summary>
    /// The floating-point type for <paramref name="precision"/> ("32-true", "64-true", "bf16-true", or the aliases
    /// "32", "64", "bf16"); mixed precision is refused with the reason.
    /// </summary>
    public static torch.ScalarType Parse(string precision) => precision switch
    {
        "32-true" or "32" => torch.ScalarType.Float32,
        "64-true" or "64" => torch.ScalarType.Float64,
        "bf16-true" or "bf16" => torch.ScalarType.BFloat16,
        "16-mixed" or "bf16-mixed" or "16" => throw new OptionException(nameof(TrainerOptions), nameof(TrainerOptions.Precision),
            $"is \"{precision}\", which needs automatic mixed precision: an autocast context that runs each op in half " +
            "precision and a gradient scaler. TorchSharp 0.107 has neither (no torch.autocast and no torch.cuda.amp.GradScaler), and " +
            "they only pay off on CUDA, which this build does not have; expected \"32-true\", \"64-true\" or \"bf16-true\" (every op in bfloat16)"),
        "16-true" => throw new OptionException(nameof(TrainerOptions), nameof(TrainerOptions.Precision),
            "is \"16-true\" (every op in float16), which the CPU does not support: many of libtorch's CPU kernels have no " +
            "float16 version; expected \"bf16-true\" for 16-bit training on the CPU, or \"32-true\" or \"64-true\""),
        _ => throw new OptionException(nameof(TrainerOptions), nameof(TrainerOptions.Precision),
            $"is \"{precision}\"; expected \"32-true\", \"64-true\" or \"bf16-true\" (or \"16-mixed\", which TorchSharp 0.107 cannot do)"),
    };
}
