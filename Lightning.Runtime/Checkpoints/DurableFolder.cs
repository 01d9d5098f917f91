using System;
using System.IO;
using System.Runtime.InteropServices;

namespace Lightning.Checkpoints;

/// <summary>
/// Makes a rename inside a folder durable: after <c>rename</c>, the new directory entry is only on disk once the
/// folder itself is flushed (<c>fsync</c> on the folder). .NET has no API for it, so this opens the folder with libc.
/// Where that is not possible (not Linux or another Unix with libc), it does nothing.
/// </summary>
internal static class DurableFolder
{
    private const int O_RDONLY = 0;
    private const int O_DIRECTORY = 0x10000;   // Linux x86-64 and arm64
    private const int O_CLOEXEC = 0x80000;

    /// <summary>Flushes <paramref name="folder"/>'s directory entries to disk (best effort: a failure to flush is not reported).</summary>
    public static void Flush(string folder)
    {
        if (!OperatingSystem.IsLinux()) return;
        try
        {
            int fd = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
            if (fd < 0) return;
            try { fsync(fd); }
            finally { close(fd); }
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { }
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);

    [DllImport("libc", SetLastError = true)]
    private static extern int fsync(int fd);

    [DllImport("libc")]
    private static extern int close(int fd);
}
