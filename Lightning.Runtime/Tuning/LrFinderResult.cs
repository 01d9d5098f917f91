using System;
using System.Collections.Generic;
using System.Linq;

namespace Lightning.Tuning;

/// <summary>The suggested learning rate: step <see cref="Index"/> of the sweep, its rate and its smoothed loss.</summary>
public readonly record struct LrSuggestion(int Index, double LearningRate, double Loss);

/// <summary>
/// What a learning-rate sweep found (Lightning's <c>_LRFinder</c>): the rate of each step and its smoothed loss, the suggested
/// rate, and <see cref="Plot"/>. <see cref="Suggestion"/> is Lightning's <c>suggestion()</c> with its defaults.
/// </summary>
public sealed class LrFinderResult
{
    /// <summary>A result from rates and smoothed losses of equal length (e.g. saved from an earlier sweep), to suggest or plot.</summary>
    public LrFinderResult(IReadOnlyList<double> learningRates, IReadOnlyList<double> losses, LrFindMode mode = LrFindMode.Exponential)
        : this(mode, learningRates is { Count: > 0 } ? learningRates[0] : double.NaN, learningRates is { Count: > 0 } ? learningRates[^1] : double.NaN,
            learningRates?.Count ?? 0, learningRates!, losses, stoppedEarly: false)
    {
    }

    internal LrFinderResult(LrFindMode mode, double minLr, double maxLr, int numTraining, IReadOnlyList<double> learningRates, IReadOnlyList<double> losses,
        bool stoppedEarly)
    {
        ArgumentNullException.ThrowIfNull(learningRates);
        ArgumentNullException.ThrowIfNull(losses);
        if (learningRates.Count != losses.Count)
            throw new ArgumentException($"{learningRates.Count} learning rates but {losses.Count} losses: expected one loss per rate.", nameof(losses));
        Mode = mode;
        MinLr = minLr;
        MaxLr = maxLr;
        NumTraining = numTraining;
        LearningRates = learningRates;
        Losses = losses;
        StoppedEarly = stoppedEarly;
    }

    /// <summary>How the rate rose (the plot's x axis is logarithmic for <see cref="LrFindMode.Exponential"/>).</summary>
    public LrFindMode Mode { get; }

    /// <summary>The first rate of the sweep.</summary>
    public double MinLr { get; }

    /// <summary>The rate the sweep would have reached at its last step.</summary>
    public double MaxLr { get; }

    /// <summary>The steps asked for (<see cref="LearningRates"/> has fewer when the sweep stopped early or ran out of batches).</summary>
    public int NumTraining { get; }

    /// <summary>The learning rate of each optimizer step of the sweep (Lightning's <c>results["lr"]</c>).</summary>
    public IReadOnlyList<double> LearningRates { get; }

    /// <summary>
    /// The smoothed loss after each step (Lightning's <c>results["loss"]</c>): NaN for a step of a manually optimized module
    /// whose training step returned null (under automatic optimization a null loss takes no optimizer step, so it is no point).
    /// </summary>
    public IReadOnlyList<double> Losses { get; }

    /// <summary>True when the sweep stopped because the smoothed loss diverged.</summary>
    public bool StoppedEarly { get; }

    /// <summary>The suggested learning rate (<see cref="Suggest"/> with Lightning's defaults), or null when there are too few finite losses.</summary>
    public double? Suggestion => Suggest()?.LearningRate;

    /// <summary>
    /// The step where the smoothed loss falls fastest as the rate rises, as Lightning's <c>suggestion(skip_begin, skip_end)</c>:
    /// leave out the first <paramref name="skipBegin"/> and the last <paramref name="skipEnd"/> steps and the non-finite losses,
    /// take the gradient of loss with respect to rate (<c>torch.gradient(losses, spacing=[lrs])</c>: second-order central
    /// differences on the uneven rates inside, one-sided at the two ends), and return its minimum (the first one on ties).
    /// Null when fewer than two points remain. Computed in double precision (Lightning: float32). Unlike Python's
    /// <c>[skip_begin:-0]</c>, which is empty, <paramref name="skipEnd"/> 0 leaves out nothing.
    /// </summary>
    public LrSuggestion? Suggest(int skipBegin = 10, int skipEnd = 1)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(skipBegin);
        ArgumentOutOfRangeException.ThrowIfNegative(skipEnd);
        var points = new List<int>();
        for (int i = skipBegin; i < Losses.Count - skipEnd; i++)
            if (double.IsFinite(Losses[i])) points.Add(i);
        if (points.Count < 2) return null;
        var gradient = Gradient(points.Select(i => LearningRates[i]).ToArray(), points.Select(i => Losses[i]).ToArray());
        int best = -1;
        for (int j = 0; j < gradient.Length; j++)
            if (!double.IsNaN(gradient[j]) && (best < 0 || gradient[j] < gradient[best])) best = j;
        if (best < 0) return null;
        int index = points[best];
        return new LrSuggestion(index, LearningRates[index], Losses[index]);
    }

    /// <summary>
    /// <c>torch.gradient(y, spacing=[x], edge_order=1)</c>: at inner points, with <c>hl = x[i] - x[i-1]</c> and
    /// <c>hr = x[i+1] - x[i]</c>, <c>(hl² y[i+1] - hr² y[i-1] + (hr² - hl²) y[i]) / (hl hr (hl + hr))</c>; at the ends the
    /// one-sided difference.
    /// </summary>
    internal static double[] Gradient(double[] x, double[] y)
    {
        int n = y.Length;
        var g = new double[n];
        g[0] = (y[1] - y[0]) / (x[1] - x[0]);
        g[n - 1] = (y[n - 1] - y[n - 2]) / (x[n - 1] - x[n - 2]);
        for (int i = 1; i < n - 1; i++)
        {
            double hl = x[i] - x[i - 1], hr = x[i + 1] - x[i];
            g[i] = (hl * hl * y[i + 1] - hr * hr * y[i - 1] + (hr * hr - hl * hl) * y[i]) / (hl * hr * (hl + hr));
        }
        return g;
    }

    /// <summary>
    /// Writes a PNG of the smoothed loss against the learning rate (a logarithmic rate axis for an exponential sweep), with the
    /// suggestion marked in red when <paramref name="suggest"/> (Lightning's <c>plot(suggest=True)</c>); returns the full path.
    /// </summary>
    /// <exception cref="LightningException">The picture cannot be drawn or written.</exception>
    public string Plot(string path, bool suggest = true, int width = 640, int height = 440) =>
        LrFinderPlot.Write(this, path, suggest ? Suggest() : null, width, height);
}
