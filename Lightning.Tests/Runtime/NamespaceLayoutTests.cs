using System;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using Lightning.Tests.Generation;
using Xunit;

namespace Lightning.Tests.Runtime;

/// <summary>
/// Namespaces follow folders (issue 15): a file in <c>Lightning.Runtime/X/</c> declares <c>namespace Lightning.X</c>. The one
/// exception is written here: the types a user's module or the generated code names without a <c>using</c> (the module
/// contract, the loops the generated code calls, the data module, logging, the options' own enums) stay in the root
/// <c>Lightning</c> namespace, as .NET keeps a library's everyday types at its root.
/// </summary>
public class NamespaceLayoutTests
{
    private static readonly string[] RootApi =
    {
        "Modules/*", "Callbacks/Callback.cs", "Callbacks/CallbackModule.cs", "Loops/TrainingLoop.cs", "Loops/EvaluationLoop.cs",
        "Loops/BatchTransfer.cs", "Metrics/MetricStore.cs", "Metrics/MetricStore.Resume.cs", "Metrics/MetricReduction.cs",
        "Data/LightningDataModule.cs", "Data/IEpochAware.cs", "Reporting/HyperParameterTable.cs", "Native/AllocatorPolicy.cs",
    };

    [Fact]
    public void EveryFileDeclaresItsFoldersNamespaceOrIsRootApi()
    {
        var root = Path.Combine(Path.GetDirectoryName(GeneratorHarness.ProjectDirectory())!, "Lightning.Runtime");
        var wrong = Directory.EnumerateFiles(root, "*.cs", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(root, f).Replace('\\', '/'))
            .Where(f => !f.StartsWith("obj/", StringComparison.Ordinal) && !f.StartsWith("bin/", StringComparison.Ordinal) && !f.StartsWith("build/", StringComparison.Ordinal))
            .Select(f => (File: f, Namespace: Regex.Match(File.ReadAllText(Path.Combine(root, f)), @"^namespace ([\w.]+);", RegexOptions.Multiline).Groups[1].Value))
            .Where(x =>
            {
                var folder = Path.GetDirectoryName(x.File)!.Replace('/', '.');
                var expected = folder.Length == 0 ? "Lightning" : "Lightning." + folder;
                if (x.Namespace == expected) return false;
                return !(x.Namespace == "Lightning" && RootApi.Any(p => p.EndsWith("/*", StringComparison.Ordinal) ? x.File.StartsWith(p[..^1], StringComparison.Ordinal) : x.File == p));
            })
            .Select(x => $"{x.File}: namespace {x.Namespace}")
            .ToList();
        Assert.True(wrong.Count == 0, "files whose namespace is not their folder's:\n" + string.Join("\n", wrong));
    }
}
