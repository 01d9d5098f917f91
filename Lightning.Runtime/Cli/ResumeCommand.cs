using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;

namespace Lightning.Cli;

/// <summary>The command line that resumes an interrupted fit: this program, the same arguments, <c>--ckpt-path</c> the checkpoint written.</summary>
internal static class ResumeCommand
{
    public static string For(IReadOnlyList<string> args, string checkpoint)
    {
        var kept = new List<string>();
        for (int i = 0; i < args.Count; i++)
        {
            var a = args[i];
            if (a is "--ckpt-path" or "--ckpt_path") { i++; continue; }
            if (a.StartsWith("--ckpt-path=", StringComparison.Ordinal) || a.StartsWith("--ckpt_path=", StringComparison.Ordinal)) continue;
            kept.Add(a);
        }
        kept.Add("--ckpt-path");
        kept.Add(checkpoint);
        return string.Join(' ', Program().Concat(kept).Select(Quote));
    }

    /// <summary>How this program was started: <c>dotnet app.dll</c>, or the app's own executable.</summary>
    private static IEnumerable<string> Program()
    {
        var host = Environment.ProcessPath;
        var entry = Environment.GetCommandLineArgs().FirstOrDefault();
        if (host is not null && Path.GetFileNameWithoutExtension(host) == "dotnet" && entry is not null) return new[] { "dotnet", entry };
        return new[] { host ?? entry ?? "app" };
    }

    /// <summary>A shell word: as it is when it has no special characters, else in single quotes.</summary>
    internal static string Quote(string word) =>
        word.Length > 0 && word.All(c => char.IsLetterOrDigit(c) || "-_./=:,+@%".Contains(c)) ? word : "'" + word.Replace("'", "'\\''") + "'";
}
