using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;

namespace Lightning.Cli;

/// <summary>The command line that resumes an interrupted fit: this program, the same arguments, <c>--ckpt-path</c> the checkpoint written.</summary>
internal static class ResumeCommand
{
    /// <summary>
    /// The command for <paramref name="args"/> (what RunCli was given) resuming from <paramref name="checkpoint"/>. When the
    /// process was started with those arguments among others (a program that reads its own options first, as the
    /// FashionMnist sample's <c>--data-dir</c>), the process's arguments are kept, so the command is the one the user typed.
    /// </summary>
    public static string For(IReadOnlyList<string> args, string checkpoint)
    {
        var typed = Environment.GetCommandLineArgs().Skip(1).ToList();
        var source = Contains(typed, args.Count > 0 && args[0] == "fit" && !typed.Contains("fit") ? args.Skip(1).ToList() : args) ? typed : args;
        var kept = new List<string>();
        for (int i = 0; i < source.Count; i++)
        {
            var a = source[i];
            if (a is "--ckpt-path" or "--ckpt_path") { i++; continue; }
            if (a.StartsWith("--ckpt-path=", StringComparison.Ordinal) || a.StartsWith("--ckpt_path=", StringComparison.Ordinal)) continue;
            kept.Add(a);
        }
        kept.Add("--ckpt-path");
        kept.Add(checkpoint);
        return string.Join(' ', Program().Concat(kept).Select(Quote));
    }

    /// <summary>True when <paramref name="part"/> appears in <paramref name="whole"/> in order (other words may stand between).</summary>
    private static bool Contains(IReadOnlyList<string> whole, IReadOnlyList<string> part)
    {
        int j = 0;
        for (int i = 0; i < whole.Count && j < part.Count; i++)
            if (whole[i] == part[j]) j++;
        return j == part.Count;
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
