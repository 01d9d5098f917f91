namespace Lightning.Tuning;

/// <summary>How the learning-rate finder raises the rate from one step to the next (Lightning's <c>mode</c>).</summary>
public enum LrFindMode
{
    /// <summary>Geometrically, from the minimum to the maximum rate (Lightning's default, <c>"exponential"</c>); the plot's x axis is logarithmic.</summary>
    Exponential,

    /// <summary>In equal increments (Lightning's <c>"linear"</c>).</summary>
    Linear,
}
