using System;
using System.IO;

namespace Lightning.Loggers;

/// <summary>
/// Writes a whole file through a temporary file beside it, flushed to disk and renamed over the target: readers and a
/// crash at any moment see either the old file or the new one, never half of it.
/// </summary>
internal static class AtomicFile
{
    /// <summary>Writes <paramref name="path"/> with <paramref name="write"/>, which gets the temporary file's stream.</summary>
    public static void Write(string path, Action<Stream> write)
    {
        var temp = path + ".tmp";
        try
        {
            using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }
}
