using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using Xunit;

namespace Lightning.Tests.Generation;

/// <summary>
/// The generator's folders are layers: Helpers and Kernel are the toolbox every feature uses and import no feature, and
/// the features (Modules, Hyperparameters, Callbacks, Cli, the analyzers in Diagnostics, the code fixes) import each other without a cycle, so a change
/// to one feature's model cannot ripple back into the toolbox (issue 14's "Modules/ is both a feature and the toolbox").
/// </summary>
public class GeneratorLayeringTests
{
    private static readonly string[] Toolbox = { "Helpers", "Kernel", "Polyfills" };

    /// <summary>Folder → the generator folders its files import (<c>using Lightning.Generators.X...</c>), read from the sources.</summary>
    private static Dictionary<string, HashSet<string>> Imports()
    {
        var root = Path.Combine(Path.GetDirectoryName(GeneratorHarness.ProjectDirectory())!, "Lightning.Generators");
        var graph = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        foreach (var file in Directory.EnumerateFiles(root, "*.cs", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(root, file);
            if (relative.StartsWith("obj", StringComparison.Ordinal) || relative.StartsWith("bin", StringComparison.Ordinal) || !relative.Contains(Path.DirectorySeparatorChar)) continue;
            var folder = relative.Split(Path.DirectorySeparatorChar)[0];
            if (folder == "CodeFixes" && relative.Contains("obj")) continue;
            var imports = graph.TryGetValue(folder, out var set) ? set : graph[folder] = new HashSet<string>(StringComparer.Ordinal);
            var text = File.ReadAllText(file);
            foreach (Match m in Regex.Matches(text, @"\bLightning\.Generators\.(\w+)"))
                if (m.Groups[1].Value != folder) imports.Add(m.Groups[1].Value);
        }
        return graph;
    }

    [Fact]
    public void TheToolboxImportsNoFeature()
    {
        var graph = Imports();
        foreach (var folder in Toolbox.Where(graph.ContainsKey))
        {
            var features = graph[folder].Where(f => !Toolbox.Contains(f)).ToList();
            Assert.True(features.Count == 0, $"{folder}/ imports the feature folder(s) {string.Join(", ", features)}");
        }
    }

    [Fact]
    public void FeaturesImportEachOtherWithoutACycle()
    {
        var graph = Imports();
        Assert.Contains("Modules", graph.Keys);
        Assert.Contains("Hyperparameters", graph.Keys);
        // Depth-first search for a path back to where it started.
        foreach (var start in graph.Keys)
        {
            var stack = new Stack<(string Node, string Path)>();
            foreach (var next in graph[start]) stack.Push((next, start + " -> " + next));
            var seen = new HashSet<string>(StringComparer.Ordinal);
            while (stack.Count > 0)
            {
                var (node, path) = stack.Pop();
                Assert.False(node == start, "generator folders import each other in a cycle: " + path);
                if (!seen.Add(node) || !graph.TryGetValue(node, out var next)) continue;
                foreach (var n in next) stack.Push((n, path + " -> " + n));
            }
        }
    }
}
