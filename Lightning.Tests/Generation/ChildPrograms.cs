using System;
using System.IO;
using Lightning.Tests.Generation;

namespace Lightning.Tests;

/// <summary>
/// The repository's programs that tests run as child processes, built in the test assembly's configuration (this file sits one
/// folder below the test project, as GeneratorHarness.ProjectDirectory expects of its caller).
/// </summary>
internal static class ChildPrograms
{
    /// <summary>The configuration this test assembly was built in (Release under test.sh).</summary>
    private static string Configuration =>
        new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent?.Name ?? "Release";

    /// <summary>The dll of the project in <paramref name="folder"/> (relative to the repository), e.g. <c>Lightning.Tests.Probe</c>.</summary>
    public static string Dll(string folder, string name) =>
        Path.Combine(Path.GetDirectoryName(GeneratorHarness.ProjectDirectory())!, folder, "bin", Configuration, "net10.0", name + ".dll");

    /// <summary>The checkpoint probe (Lightning.Tests.Probe): fuzzing, killed saves.</summary>
    public static string Probe => Dll("Lightning.Tests.Probe", "Lightning.Tests.Probe");
}
