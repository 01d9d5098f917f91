using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Lightning.Callbacks;

namespace Lightning.Checkpoints;

/// <summary>
/// Resolves a <c>ckptPath</c> (<c>Fit(..., ckptPath:)</c>, the command line's <c>--ckpt-path</c>) in one place: a file, or
/// <c>"last"</c> / <c>"best"</c> of the fit's <see cref="ModelCheckpoint"/>s, in this process or, in a new one, from the
/// files they left (Lightning's <c>_CheckpointConnector._parse_ckpt_path</c>; see docs/lightning-map.md for how "last"
/// differs).
/// </summary>
public static class CheckpointPath
{
    /// <summary>
    /// The file <paramref name="ckptPath"/> names. <c>"last"</c>: the newest checkpoint a <paramref name="checkpoints"/>
    /// callback wrote in this process, else the newest <c>.ckpt</c> in their folders or under
    /// <c><paramref name="defaultRootDir"/>/lightning_logs</c>. <c>"best"</c>: a callback's best in this process, else the
    /// best recorded by a callback's saved state in the newest checkpoint. A path is returned as it is (opening it names a
    /// folder or a missing file). Without <paramref name="defaultRootDir"/> only the callbacks' own folders are searched.
    /// </summary>
    /// <exception cref="LightningException">Nothing to resolve to; the message names <paramref name="ckptPath"/>.</exception>
    public static string Resolve(string ckptPath, IReadOnlyList<ModelCheckpoint> checkpoints, string? defaultRootDir)
    {
        ArgumentException.ThrowIfNullOrEmpty(ckptPath);
        if (ckptPath is not ("best" or "last")) return ckptPath;
        if (checkpoints.Count == 0 && defaultRootDir is null)
            throw new LightningException($"ckpt_path '{ckptPath}' needs a ModelCheckpoint in TrainerOptions.Callbacks that has saved a checkpoint (in this process or in its DirPath); pass a path instead.");
        var inProcess = ckptPath == "last"
            ? checkpoints.Select(c => c.LatestSavedPath ?? c.LastModelPath).FirstOrDefault(p => p is not null && File.Exists(p))
            : checkpoints.Select(c => c.BestModelPath).FirstOrDefault(p => p is not null && File.Exists(p));
        if (inProcess is not null) return inProcess;

        var dirs = checkpoints.Select(c => c.ResolvedDirPath ?? c.DirPath).Where(d => d is not null).Cast<string>().Distinct().ToList();
        var logs = defaultRootDir is null ? null : Path.Combine(defaultRootDir, "lightning_logs");
        var files = dirs.Where(Directory.Exists).SelectMany(d => Directory.GetFiles(d, "*.ckpt"))
            .Concat(logs is not null && Directory.Exists(logs) ? Directory.GetFiles(logs, "*.ckpt", SearchOption.AllDirectories) : Array.Empty<string>())
            .Distinct().OrderByDescending(File.GetLastWriteTimeUtc).ToList();
        if (files.Count == 0)
            throw new LightningException($"ckpt_path '{ckptPath}': no checkpoint found in {string.Join(", ", dirs.Append(logs).Where(d => d is not null))}.");
        if (ckptPath == "last") return files[0];
        return checkpoints.Select(c => c.BestRecordedIn(files[0])).FirstOrDefault(p => p is not null) ?? throw new LightningException(
            $"ckpt_path 'best': the newest checkpoint {files[0]} records no best checkpoint of a ModelCheckpoint with a monitor like this fit's; use last or a path.");
    }
}
