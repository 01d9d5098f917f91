namespace Lightning;

/// <summary>How <see cref="TrainerOptions.GradientClipVal"/> clips gradients: Lightning's <c>gradient_clip_algorithm</c>.</summary>
public enum GradientClipAlgorithm
{
    /// <summary><c>"norm"</c>: scale all gradients so that their total 2-norm is at most the value. The default.</summary>
    Norm,
    /// <summary><c>"value"</c>: clamp each gradient element to [-value, value].</summary>
    Value,
}

public static partial class LightningSpelling
{
    // Lightning: class GradClipAlgorithmType(LightningEnum): VALUE = "value"; NORM = "norm" (src/lightning/pytorch/utilities/enums.py).
    private static readonly Spelling<GradientClipAlgorithm> GradientClipAlgorithms =
        new(new[] { (GradientClipAlgorithm.Norm, "norm"), (GradientClipAlgorithm.Value, "value") });

    /// <summary>Lightning's spelling: <c>"norm"</c> or <c>"value"</c>.</summary>
    public static string ToLightningString(this GradientClipAlgorithm algorithm) => GradientClipAlgorithms.Format(algorithm);

    /// <summary>Reads Lightning's <c>"norm"</c> or <c>"value"</c>.</summary>
    public static bool TryParse(string? text, out GradientClipAlgorithm algorithm) => GradientClipAlgorithms.TryParse(text, out algorithm);
}
