using System;
using System.Globalization;

namespace Lightning.Reporting;

/// <summary>How metric values are printed.</summary>
public static class MetricFormat
{
    /// <summary>Five decimals, as in the epoch summary line (<c>loss 0.61840</c>).</summary>
    public static string Epoch(double value) => value.ToString("0.00000", CultureInfo.InvariantCulture);

    /// <summary>Four significant digits, for the progress bar.</summary>
    public static string Short(double value) => value.ToString("0.####", CultureInfo.InvariantCulture);
}
