using System.Threading;

namespace Lightning.Diagnostics;

/// <summary>
/// Counts the times Lightning.Runtime reads a tensor's value to the host during training and evaluation (each such
/// read waits for the device). The trainer reads only when a log asks for it: the progress bar's redraw, the loggers
/// every LogEveryNSteps steps, the epoch's means, a callback that reads the loss. Tests assert on it; users can watch it.
/// </summary>
public static class HostSync
{
    private static long _count;

    /// <summary>Reads so far in this process.</summary>
    public static long Count => Interlocked.Read(ref _count);

    /// <summary>Starts counting from zero.</summary>
    public static void Reset() => Interlocked.Exchange(ref _count, 0);

    /// <summary>Records one read.</summary>
    internal static void Record() => Interlocked.Increment(ref _count);
}
