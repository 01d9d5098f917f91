using System;
using System.Runtime.InteropServices;
using System.Threading;

namespace Lightning;

/// <summary>
/// How glibc's malloc should treat the large, short-lived buffers that LibTorch allocates every step on CPU.
/// glibc's defaults return them to the OS and fault them in again each step, which costs 2x-6x in step time
/// on this project's benchmark machine; see docs/allocator.md and BENCHMARKS.md for the measurements.
/// </summary>
public enum AllocatorPolicy
{
    /// <summary>The measured best policy for training (currently <see cref="KeepHeap"/>).</summary>
    Recommended = 0,

    /// <summary>Leave glibc's defaults alone (the opt-out).</summary>
    None,

    /// <summary><c>M_TRIM_THRESHOLD</c> 1 GiB and <c>M_MMAP_THRESHOLD</c> 32 MiB: freed memory stays in the heap; buffers over 32 MiB are still mapped per use.</summary>
    TrimAndMmapThreshold,

    /// <summary><c>M_TOP_PAD</c> 1 GiB and <c>M_TRIM_THRESHOLD</c> 2 GiB.</summary>
    TopPad,

    /// <summary>
    /// Every allocation from the heap (<c>M_MMAP_MAX</c> 0), which is never trimmed (<c>M_TRIM_THRESHOLD</c> 2 GiB)
    /// and grows in 256 MiB steps (<c>M_TOP_PAD</c>): large activations are reused between steps instead of being
    /// mapped and faulted in every time.
    /// </summary>
    KeepHeap,
}

/// <summary>Applies an <see cref="AllocatorPolicy"/> to the process (glibc on Linux only; elsewhere nothing happens).</summary>
public static class Allocator
{
    private const int M_TRIM_THRESHOLD = -1, M_TOP_PAD = -2, M_MMAP_THRESHOLD = -3, M_MMAP_MAX = -4;
    private static int _applied = -1;

    /// <summary>The policy applied to this process so far, or null when none was.</summary>
    public static AllocatorPolicy? Applied => _applied < 0 ? null : (AllocatorPolicy)_applied;

    /// <summary>
    /// Applies <paramref name="policy"/> once per process: the first call decides (<see cref="AllocatorPolicy.None"/>
    /// included) and later calls are ignored, since glibc's settings cannot be safely undone while memory is in use.
    /// Returns true when settings were changed by this call.
    /// </summary>
    public static bool Apply(AllocatorPolicy policy)
    {
        // The first call decides for the whole process, the opt-out (None) included.
        if (Interlocked.CompareExchange(ref _applied, (int)policy, -1) != -1) return false;
        if (policy == AllocatorPolicy.None || !OperatingSystem.IsLinux()) return false;
        var p = policy == AllocatorPolicy.Recommended ? AllocatorPolicy.KeepHeap : policy;
        try
        {
            return p switch
            {
                AllocatorPolicy.TrimAndMmapThreshold => Set(M_TRIM_THRESHOLD, 1 << 30) & Set(M_MMAP_THRESHOLD, 32 << 20),
                AllocatorPolicy.TopPad => Set(M_TOP_PAD, 1 << 30) & Set(M_TRIM_THRESHOLD, int.MaxValue),
                AllocatorPolicy.KeepHeap => Set(M_MMAP_MAX, 0) & Set(M_TRIM_THRESHOLD, int.MaxValue) & Set(M_TOP_PAD, 256 << 20),
                _ => false,
            };
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;   // not glibc (e.g. musl): nothing to tune
        }
    }

    private static bool Set(int param, int value) => mallopt(param, value) == 1;

    [DllImport("libc", ExactSpelling = true)]
    private static extern int mallopt(int param, int value);
}
