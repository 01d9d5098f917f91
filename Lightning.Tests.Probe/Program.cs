using System;
using System.Globalization;
using System.IO;
using System.Linq;
using Lightning.Tests.Probe;

// The child process of Lightning.Tests/Checkpoints/CheckpointFuzzTests (run it by hand the same way):
//   dotnet Lightning.Tests.Probe.dll make DIR      trains FuzzNet 2 epochs; writes DIR/last.ckpt, DIR/mid.ckpt, DIR/weights.ckpt
//   dotnet Lightning.Tests.Probe.dll gen DIR OUT   writes the variants of DIR's base checkpoints to OUT, and OUT/manifest.tsv
//   dotnet Lightning.Tests.Probe.dll load          reads checkpoint paths from stdin, one a line; for each prints
//       START <path>
//       PART load|fit ok|clean|unhandled <type> <message>
//       RESULT <path> ok|clean|unhandled <type> <message> <peak-rss-kb>
//   e.g.  cut -f1 OUT/manifest.tsv | dotnet Lightning.Tests.Probe.dll load
//   dotnet Lightning.Tests.Probe.dll save-loop DIR trains for ever with a checkpoint after every step (killed by KilledSaveTests)
//   dotnet Lightning.Tests.Probe.dll verify DIR    loads every DIR/*.ckpt; exit 1 if any does not load
//   dotnet Lightning.Tests.Probe.dll cli ARGS...   FuzzNet's command line, paced, printing STEP n (PreemptionTests signals it)
switch (args.FirstOrDefault())
{
    case "cli":
        return PreemptRun.Run(args[1..]);
    case "make" when args.Length == 2:
        Console.WriteLine(BaseCheckpoints.Make(args[1]));
        return 0;
    case "gen" when args.Length == 3:
    {
        var variants = CheckpointMutations.Generate(args[1], args[2]);
        File.WriteAllLines(Path.Combine(args[2], "manifest.tsv"), variants.Select(v => v.Path + "\t" + v.Name));
        Console.WriteLine(variants.Count.ToString(CultureInfo.InvariantCulture) + " variants in " + args[2]);
        return 0;
    }
    case "save-loop" when args.Length == 2:
        return SaveLoop.Run(args[1]);
    case "verify" when args.Length == 2:
        return SaveLoop.Verify(args[1], Console.Out);
    case "load" when args.Length == 1:
        return LoadProbe.Run(Console.In, Console.Out);
    default:
        Console.Error.WriteLine("usage: make DIR | gen DIR OUT | load (paths on stdin) | save-loop DIR | verify DIR | cli ARGS...");
        return 2;
}
