using System;
using System.Globalization;
using System.IO;

namespace Lightning.Loggers;

/// <summary>
/// The run folders Lightning's loggers use: <c>&lt;root&gt;/lightning_logs/version_N</c>, where N is the highest
/// existing version + 1 (0 for the first run). Gaps are not reused: with <c>version_0</c> and <c>version_5</c> the next
/// run is <c>version_6</c>, so a new run never lands between older ones.
/// </summary>
public static class LogDirectory
{
    /// <summary>The folder under the root that holds the run folders.</summary>
    public const string LogsFolderName = "lightning_logs";

    /// <summary>The start of every run folder's name.</summary>
    public const string VersionPrefix = "version_";

    /// <summary>
    /// Creates the next run folder, <c>&lt;root&gt;/lightning_logs/version_N</c>, and returns its full path. The root and
    /// <c>lightning_logs</c> are created when missing.
    /// </summary>
    /// <param name="root">The folder under which runs are kept (Lightning's <c>default_root_dir</c>; "." for the current one).</param>
    /// <exception cref="LightningException">The root is empty, is a file, or the folders cannot be created there
    /// (no permission, read-only file system...); the message names the folder and the reason.</exception>
    public static string Create(string root)
    {
        if (string.IsNullOrWhiteSpace(root))
            throw new LightningException("Log folder root is empty: give a folder (\".\" for the current one).");
        string logs = Path.GetFullPath(Path.Combine(root, LogsFolderName));
        if (File.Exists(root))
            throw new LightningException($"Log folder root '{root}' is a file, not a folder: give a folder where {LogsFolderName}/version_N can be created.");
        if (File.Exists(logs))
            throw new LightningException($"'{logs}' is a file, not a folder: remove it or choose another log folder root.");
        try
        {
            Directory.CreateDirectory(logs);
            // Another process may take a number between the listing and the creation: take the next one then.
            for (int version = NextVersion(logs); ; version = checked(version + 1))
            {
                var dir = Path.Combine(logs, VersionPrefix + version.ToString(CultureInfo.InvariantCulture));
                if (Directory.Exists(dir) || File.Exists(dir)) continue;
                Directory.CreateDirectory(dir);
                return dir;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new LightningException(
                $"Cannot create a run folder under '{logs}' ({e.Message}). The log folder root '{root}' must be writable: " +
                "choose another one (TrainerOptions.DefaultRootDir) or fix its permissions.", e);
        }
    }

    /// <summary>
    /// The number the next run folder in <paramref name="logsFolder"/> gets: the highest version among its
    /// <c>version_N</c> subfolders + 1, or 0 when there is none or the folder does not exist. Files and other folders
    /// are ignored (see <see cref="TryParseVersion"/>).
    /// </summary>
    /// <exception cref="LightningException">The folder cannot be listed, or its highest version is <see cref="int.MaxValue"/>.</exception>
    public static int NextVersion(string logsFolder)
    {
        if (!Directory.Exists(logsFolder)) return 0;
        int max = -1;
        try
        {
            foreach (var dir in Directory.EnumerateDirectories(logsFolder, VersionPrefix + "*"))
                if (TryParseVersion(Path.GetFileName(dir), out int version) && version > max) max = version;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new LightningException($"Cannot list the run folders in '{logsFolder}' ({e.Message}).", e);
        }
        if (max == int.MaxValue)
            throw new LightningException($"'{logsFolder}' holds {VersionPrefix}{int.MaxValue}: there is no next version number; move the old runs away.");
        return max + 1;
    }

    /// <summary>
    /// Reads a run folder's name as Lightning does: <c>version_</c>, then decimal digits up to the next <c>_</c> or the
    /// end. <c>version_3</c> and <c>version_3_old</c> are version 3; <c>version_</c>, <c>version_x</c>, <c>version_-1</c>
    /// and numbers past <see cref="int.MaxValue"/> are not versions.
    /// </summary>
    public static bool TryParseVersion(string folderName, out int version)
    {
        version = 0;
        if (folderName is null || !folderName.StartsWith(VersionPrefix, StringComparison.Ordinal)) return false;
        var rest = folderName.AsSpan(VersionPrefix.Length);
        int end = rest.IndexOf('_');
        var digits = end < 0 ? rest : rest[..end];
        if (digits.IsEmpty) return false;
        foreach (char c in digits)
            if (c is < '0' or > '9') return false;
        return int.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out version);
    }
}
