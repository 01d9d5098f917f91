using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using Lightning.Generators.Kernel;
using Lightning.Tests.Generation;
using Microsoft.CodeAnalysis;
using Xunit;

namespace Lightning.Tests.Diagnostics;

/// <summary>Every rule has a help page that its help link names, and its severity is the same in the code, the index and the release notes.</summary>
public class DiagnosticCatalogTests
{
    private static string Repo => Path.GetDirectoryName(GeneratorHarness.ProjectDirectory())!;

    [Fact]
    public void EveryRuleLinksToItsPage()
    {
        var all = DiagnosticDescriptors.All.Values.OrderBy(d => d.Id).ToList();
        Assert.Equal(Enumerable.Range(1, 20).Select(i => $"LTN{i:0000}"), all.Select(d => d.Id));
        foreach (var d in all)
        {
            Assert.Equal("docs/diagnostics/" + d.Id + ".md", d.HelpLinkUri);
            Assert.True(File.Exists(Path.Combine(Repo, d.HelpLinkUri)), d.HelpLinkUri);
            Assert.DoesNotContain(WellKnownDiagnosticTags.NotConfigurable, d.CustomTags);   // would make csc skip every analyzer
        }
    }

    [Fact]
    public void SeveritiesAgreeWithTheIndexThePagesAndTheReleaseNotes()
    {
        var index = File.ReadAllText(Path.Combine(Repo, "docs/diagnostics/README.md"));
        var releases = File.ReadAllText(Path.Combine(Repo, "Lightning.Generators/AnalyzerReleases.Unshipped.md"));
        foreach (var d in DiagnosticDescriptors.All.Values)
        {
            var severity = d.DefaultSeverity.ToString();
            Assert.Matches(new Regex(@"\[" + d.Id + @"\]\(" + d.Id + @"\.md\) \| " + severity + @" \|"), index);
            Assert.Matches(new Regex(d.Id + @" \| Lightning \| " + severity + @" \|"), releases);
            Assert.Contains("Severity: " + severity, File.ReadAllText(Path.Combine(Repo, d.HelpLinkUri)));
        }
    }
}
