using System.IO;
using Lightning.Loggers;
using Xunit;

namespace Lightning.Tests.Loggers;

public sealed class LogDirectoryTests
{
    [Fact]
    public void TheFirstRunIsVersion0AndTheRootAndLightningLogsAreCreated()
    {
        using var temp = new TempFolder();
        var root = temp.Combine("runs", "exp");
        var dir = LogDirectory.Create(root);
        Assert.Equal(Path.GetFullPath(Path.Combine(root, "lightning_logs", "version_0")), dir);
        Assert.True(Directory.Exists(dir));
    }

    [Fact]
    public void EachCreateTakesTheNextNumber()
    {
        using var temp = new TempFolder();
        Assert.EndsWith("version_0", LogDirectory.Create(temp.Path));
        Assert.EndsWith("version_1", LogDirectory.Create(temp.Path));
        Assert.EndsWith("version_2", LogDirectory.Create(temp.Path));
    }

    [Fact]
    public void TheNextNumberIsTheHighestPlusOneSoGapsAreNotReused()
    {
        using var temp = new TempFolder();
        Directory.CreateDirectory(temp.Combine("lightning_logs", "version_0"));
        Directory.CreateDirectory(temp.Combine("lightning_logs", "version_5"));
        Assert.Equal(6, LogDirectory.NextVersion(temp.Combine("lightning_logs")));
        Assert.EndsWith("version_6", LogDirectory.Create(temp.Path));
    }

    [Fact]
    public void FilesAndFoldersThatAreNotVersionsAreIgnored()
    {
        using var temp = new TempFolder();
        var logs = temp.Combine("lightning_logs");
        Directory.CreateDirectory(Path.Combine(logs, "version_1"));
        foreach (var name in new[] { "version_", "version_x", "version_-4", "versions_9", "other", "version_99999999999" })
            Directory.CreateDirectory(Path.Combine(logs, name));
        File.WriteAllText(Path.Combine(logs, "version_7"), "a file, not a run folder");
        Assert.Equal(2, LogDirectory.NextVersion(logs));
    }

    [Fact]
    public void AFolderNamedVersion3WithASuffixCountsAs3AsInLightning()
    {
        using var temp = new TempFolder();
        Directory.CreateDirectory(temp.Combine("lightning_logs", "version_3_old"));
        Assert.Equal(4, LogDirectory.NextVersion(temp.Combine("lightning_logs")));
    }

    [Fact]
    public void AMissingLogsFolderStartsAt0()
    {
        using var temp = new TempFolder();
        Assert.Equal(0, LogDirectory.NextVersion(temp.Combine("nothing here")));
    }

    [Theory]
    [InlineData("version_0", true, 0)]
    [InlineData("version_12", true, 12)]
    [InlineData("version_3_old", true, 3)]
    [InlineData("version_007", true, 7)]
    [InlineData("version_", false, 0)]
    [InlineData("version__1", false, 0)]
    [InlineData("version_x", false, 0)]
    [InlineData("version_+1", false, 0)]
    [InlineData("version_-1", false, 0)]
    [InlineData("version_ 1", false, 0)]
    [InlineData("Version_1", false, 0)]
    [InlineData("version_2147483648", false, 0)]
    public void TryParseVersionReadsNamesAsLightningDoes(string name, bool parsed, int version)
    {
        Assert.Equal(parsed, LogDirectory.TryParseVersion(name, out int v));
        Assert.Equal(version, v);
    }

    [Fact]
    public void ARootThatIsAFileIsAClearError()
    {
        using var temp = new TempFolder();
        var file = temp.Combine("root.txt");
        File.WriteAllText(file, "");
        var e = Assert.Throws<LightningException>(() => LogDirectory.Create(file));
        Assert.Contains(file, e.Message);
        Assert.Contains("is a file", e.Message);

        var nested = Path.Combine(file, "below");
        e = Assert.Throws<LightningException>(() => LogDirectory.Create(nested));
        Assert.Contains("must be writable", e.Message);
    }

    [Fact]
    public void ALightningLogsFileIsAClearError()
    {
        using var temp = new TempFolder();
        File.WriteAllText(temp.Combine("lightning_logs"), "");
        var e = Assert.Throws<LightningException>(() => LogDirectory.Create(temp.Path));
        Assert.Contains("lightning_logs' is a file", e.Message);
    }

    [Fact]
    public void ARootWhereNothingCanBeCreatedIsAClearErrorNamingIt()
    {
        // /proc refuses new folders even to root, so this holds whoever runs the tests.
        var e = Assert.Throws<LightningException>(() => LogDirectory.Create("/proc/lightning-test-root"));
        Assert.Contains("/proc/lightning-test-root", e.Message);
        Assert.Contains("must be writable", e.Message);
    }

    [Theory]
    [InlineData("")]
    [InlineData("  ")]
    public void AnEmptyRootIsAClearError(string root)
    {
        var e = Assert.Throws<LightningException>(() => LogDirectory.Create(root));
        Assert.Contains("empty", e.Message);
    }
}
