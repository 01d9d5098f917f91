using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using Lightning.Tests.Generation;
using Xunit;

namespace Lightning.Tests.Packaging;

/// <summary>
/// Packs Lightning.Runtime once (as docs/packaging.md says, so with its own local version) and sets up a console
/// project that references only that package from a local folder (plus libtorch's natives), with its own nuget.config,
/// and restores it once. Every test then builds that project with a real <c>dotnet build --no-restore</c>.
/// </summary>
public sealed class PackedConsumer : IDisposable
{
    public const string GeneratedModuleFolder =
        "generated/Lightning.Generators/Lightning.Generators.Modules.LightningModuleGenerator";

    public string Root { get; } = Directory.CreateTempSubdirectory("lightning-pack-").FullName;
    public string Feed => Path.Combine(Root, "feed");
    public string App => Path.Combine(Root, "app");
    public string Package { get; }
    public string Version { get; }

    public PackedConsumer()
    {
        var repo = Path.GetDirectoryName(GeneratorHarness.ProjectDirectory())!;
        // --no-build: the suite runs after the Release build of the whole solution (test.sh), so pack what it built.
        // No version on the command line: a local pack gets 0.1.0-dev.<UTC time> (Directory.Build.targets).
        var (packed, packOutput) = Dotnet($"pack Lightning.Runtime -c Release --no-build -o \"{Feed}\" -nologo", repo);
        if (packed != 0) throw new InvalidOperationException(packOutput);
        var packages = Directory.GetFiles(Feed, "*.nupkg");
        if (packages.Length != 1) throw new InvalidOperationException($"expected one package in {Feed}: {string.Join(", ", packages)}\n{packOutput}");
        Package = packages[0];
        Version = Regex.Match(Path.GetFileName(Package), @"^Lightning\.Runtime\.(.+)\.nupkg$").Groups[1].Value;

        Directory.CreateDirectory(App);
        // Project-local: the folder is added to the machine's sources (no <clear/>, the default source stays). Packages
        // are extracted into a folder of this test (outside the project, or its *.cs files would be compiled), so the
        // machine's package cache gets no new version; it is only read, as a fallback, for TorchSharp and the rest.
        var machinePackages = Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } configured
            ? configured
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        File.WriteAllText(Path.Combine(App, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <config>
                <add key="globalPackagesFolder" value="{Path.Combine(Root, "packages")}" />
              </config>
              <packageSources>
                <add key="lightning-local" value="{Feed}" />
              </packageSources>
              <fallbackPackageFolders>
                <add key="machine" value="{machinePackages}" />
              </fallbackPackageFolders>
            </configuration>
            """);
        // One package of Lightning's; libtorch's natives are the user's choice of platform (docs/packaging.md).
        File.WriteAllText(Path.Combine(App, "App.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <Nullable>enable</Nullable>
                <NoWarn>NU1603</NoWarn>
                <NuGetAudit>false</NuGetAudit>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="Lightning.Runtime" Version="{Version}" />
                <PackageReference Include="libtorch-cpu-linux-x64" Version="2.10.0" />
              </ItemGroup>
            </Project>
            """);
        File.WriteAllText(Path.Combine(App, "Program.cs"), """
            using System;
            using System.Linq;
            using Lightning;
            using Lightning.Data;
            using TorchSharp;
            using static TorchSharp.torch;
            using static TorchSharp.torch.nn;

            var trainer = new Trainer(new TrainerOptions { MaxEpochs = 3, Seed = 1, EnableProgressBar = false, EnableModelSummary = false });
            torch.manual_seed(1);
            var model = new Tiny();
            var x = randn(256, 4);
            var y = x.sum(1).gt(0).to_type(ScalarType.Int64);
            trainer.Fit(model, new TensorDataLoader(x, y, 32, shuffle: true, seed: 1));
            Console.WriteLine($"loss {trainer.History[0]["loss"]:0.0000} -> {trainer.History[^1]["loss"]:0.0000}; hidden {model.Hparams.Hidden}");

            [LightningModule]
            public partial class Tiny([Hyperparameter] int hidden = 8) : Module<Tensor, Tensor>(nameof(Tiny))
            {
                private readonly TorchSharp.Modules.Linear fc1 = Linear(4, hidden);
                private readonly TorchSharp.Modules.Linear fc2 = Linear(hidden, 2);
                public override Tensor forward(Tensor x) => fc2.forward(functional.relu(fc1.forward(x)));

                [TrainingStep]
                Tensor TrainingStep((Tensor X, Tensor Y) batch)
                {
                    var loss = functional.cross_entropy(forward(batch.X), batch.Y);
                    Log("loss", loss, onEpoch: true);
                    return loss;
                }

                [ConfigureOptimizers]
                Optimization ConfigureOptimizers() => torch.optim.Adam(parameters(), lr: 0.05);
            }
            """);
        var (restored, restoreOutput) = Dotnet("restore -nologo", App);
        if (restored != 0) throw new InvalidOperationException(restoreOutput);
    }

    public void Dispose()
    {
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    /// <summary>Builds the consumer (Release, no restore: the fixture restored it once) and parses its diagnostics.</summary>
    public (int Code, string Output, IReadOnlyList<BuildDiagnostic> Diagnostics) Build(string extraArguments = "")
    {
        var (code, output) = Dotnet($"build -c Release --no-restore -nologo -tl:off -nodeReuse:false {extraArguments}", App);
        return (code, output, BuildDiagnostic.Parse(output));
    }

    public static (int Code, string Output) Dotnet(string arguments, string workingDirectory, int timeoutMinutes = 5)
    {
        var start = new ProcessStartInfo("dotnet", arguments)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        // The test host's MSBuild settings must not leak into the child builds.
        foreach (var key in new[] { "MSBuildExtensionsPath", "MSBUILD_EXE_PATH", "MSBuildSDKsPath", "DOTNET_HOST_PATH" }) start.Environment.Remove(key);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(timeoutMinutes)))
        {
            process.Kill(entireProcessTree: true);
            return (-1, $"dotnet {arguments}: timed out after {timeoutMinutes} minutes\n{stdout.Result}{stderr.Result}");
        }
        return (process.ExitCode, stdout.Result + stderr.Result);
    }
}

/// <summary>One MSBuild diagnostic line: <c>path(line,col): error|warning ID: message [project]</c>.</summary>
public sealed record BuildDiagnostic(string Path, int Line, int Column, string Severity, string Id, string Message)
{
    private static readonly Regex Format = new(
        @"^[ \t]*(?<path>[^\s(][^(\r\n]*)\((?<line>\d+),(?<col>\d+)(?:,\d+,\d+)?\): (?<sev>error|warning|info) (?<id>[A-Za-z]+\d+): (?<msg>[^\r\n]*?)(?: \[[^\]\r\n]+\])?[ \t]*\r?$",
        RegexOptions.Multiline);

    /// <summary>Every diagnostic once (MSBuild repeats them in its summary).</summary>
    public static IReadOnlyList<BuildDiagnostic> Parse(string output) =>
        Format.Matches(output)
            .Select(m => new BuildDiagnostic(m.Groups["path"].Value.Trim(), int.Parse(m.Groups["line"].Value, CultureInfo.InvariantCulture),
                int.Parse(m.Groups["col"].Value, CultureInfo.InvariantCulture), m.Groups["sev"].Value, m.Groups["id"].Value, m.Groups["msg"].Value))
            .Distinct().ToList();

    /// <summary>In a file the compiler generated (under obj/, or named *.g.cs), not one the user wrote.</summary>
    public bool InGeneratedCode(string projectDirectory) =>
        Path.EndsWith(".g.cs", StringComparison.Ordinal)
        || Path.StartsWith(System.IO.Path.Combine(projectDirectory, "obj") + System.IO.Path.DirectorySeparatorChar, StringComparison.Ordinal);

    public override string ToString() => $"{Path}({Line},{Column}): {Severity} {Id}: {Message}";
}

/// <summary>
/// Lightning as a user gets it: the one package, packed to a folder and referenced by a console project with nothing
/// else of this repository (no ProjectReference), built with a real <c>dotnet build</c>: a correct module builds and
/// trains; each mistake is reported with its LTN id at the user's file and line, and never as an error in generated code.
/// </summary>
[Collection("Training")]
public sealed class PackageTests(PackedConsumer consumer) : IClassFixture<PackedConsumer>
{
    [Fact]
    public void OnePackageHoldsTheAttributesRuntimeGeneratorAnalyzersCodeFixesAndBuildFiles()
    {
        Assert.Matches(@"-dev\.\d{14}$", consumer.Version);   // a local pack has a version of its own
        using var zip = ZipFile.OpenRead(consumer.Package);
        var files = zip.Entries.Select(e => e.FullName)
            .Where(n => !n.StartsWith("_rels/", StringComparison.Ordinal) && !n.StartsWith("package/", StringComparison.Ordinal) && n != "[Content_Types].xml")
            .OrderBy(n => n, StringComparer.Ordinal).ToList();
        Assert.Equal(new[]
        {
            "Lightning.Runtime.nuspec",
            "README.md",
            "analyzers/dotnet/cs/Lightning.CodeFixes.dll",
            "analyzers/dotnet/cs/Lightning.Generators.dll",
            "build/GlibcxxPatch.cs",
            "build/Lightning.Runtime.props",
            "build/Lightning.Runtime.targets",
            "buildTransitive/Lightning.Runtime.props",
            "buildTransitive/Lightning.Runtime.targets",
            "lib/net10.0/Lightning.Abstractions.dll",
            "lib/net10.0/Lightning.Abstractions.xml",
            "lib/net10.0/Lightning.Runtime.dll",
            "lib/net10.0/Lightning.Runtime.xml",
        }, files);

        using var nuspec = zip.GetEntry("Lightning.Runtime.nuspec")!.Open();
        var dependencies = XDocument.Load(nuspec).Descendants().Where(e => e.Name.LocalName == "dependency")
            .Select(e => e.Attribute("id")!.Value).OrderBy(id => id, StringComparer.Ordinal).ToList();
        // TorchSharp and the runtime's libraries; nothing of Lightning's (it is all inside), no libtorch natives.
        Assert.Equal(new[] { "CsvHelper", "ScottPlot", "System.CommandLine", "TorchSharp" }, dependencies);
    }

    [Fact]
    public void OnePackageReferenceBuildsAModuleThatTrains()
    {
        File.Delete(Path.Combine(consumer.App, "Case.cs"));
        var (built, output, diagnostics) = consumer.Build();
        Assert.True(built == 0, output);
        Assert.DoesNotContain(diagnostics, d => d.Severity == "error");
        // The package turns EmitCompilerGeneratedFiles on: the generated file is where the README says to look.
        Assert.True(File.Exists(Path.Combine(consumer.App, "obj", "Release", "net10.0", PackedConsumer.GeneratedModuleFolder, "Tiny.Lightning.g.cs")),
            string.Join("\n", Directory.GetFiles(Path.Combine(consumer.App, "obj"), "*.g.cs", SearchOption.AllDirectories)));

        var (ran, runOutput) = PackedConsumer.Dotnet("bin/Release/net10.0/App.dll", consumer.App);
        Assert.True(ran == 0, runOutput);
        var numbers = Regex.Match(runOutput, @"loss (\d+\.\d+) -> (\d+\.\d+); hidden 8");
        Assert.True(numbers.Success, runOutput);
        Assert.True(double.Parse(numbers.Groups[2].Value, CultureInfo.InvariantCulture)
            < double.Parse(numbers.Groups[1].Value, CultureInfo.InvariantCulture), runOutput);
    }

    private const string Usings = """
        using System;
        using Lightning;
        using Lightning.Callbacks;
        using TorchSharp;
        using static TorchSharp.torch;
        using static TorchSharp.torch.nn;

        """;

    /// <summary>Mistakes a user makes, each with the id expected on the line marked <c>// &lt;-</c>.</summary>
    public static TheoryData<string, string, string, string> Mistakes => new()
    {
        { "not partial", "LTN0001", "error", """
            [LightningModule]
            public class NotPartial() : Module<Tensor, Tensor>(nameof(NotPartial))   // <-
            {
                public override Tensor forward(Tensor x) => x;
                [TrainingStep] Tensor TrainingStep((Tensor X, Tensor Y) batch) => functional.mse_loss(forward(batch.X), batch.Y);
                [ConfigureOptimizers] Optimization ConfigureOptimizers() => torch.optim.Adam(parameters());
            }
            """ },
        { "no optimizer", "LTN0003", "error", """
            [LightningModule]
            public partial class NoOptimizer() : Module<Tensor, Tensor>(nameof(NoOptimizer))   // <-
            {
                private readonly TorchSharp.Modules.Linear fc = Linear(4, 2);
                public override Tensor forward(Tensor x) => fc.forward(x);
                [TrainingStep] Tensor TrainingStep((Tensor X, Tensor Y) batch) => functional.cross_entropy(forward(batch.X), batch.Y);
            }
            """ },
        { "backward() under automatic optimization", "LTN0005", "error", """
            [LightningModule]
            public partial class ManualBackward() : Module<Tensor, Tensor>(nameof(ManualBackward))
            {
                private readonly TorchSharp.Modules.Linear fc = Linear(4, 2);
                public override Tensor forward(Tensor x) => fc.forward(x);

                [TrainingStep]
                Tensor TrainingStep((Tensor X, Tensor Y) batch, long batchIdx)
                {
                    var loss = functional.cross_entropy(forward(batch.X), batch.Y);
                    loss.backward();   // <-
                    return loss;
                }

                [ConfigureOptimizers] Optimization ConfigureOptimizers() => torch.optim.Adam(parameters());
            }
            """ },
        { "hyperparameter of an unsavable type", "LTN0007", "error", """
            [LightningModule]
            public partial class Layers() : Module<Tensor, Tensor>(nameof(Layers))
            {
                [Hyperparameter] public int[] Sizes { get; init; } = [64, 128];   // <-
                private readonly TorchSharp.Modules.Linear fc = Linear(4, 2);
                public override Tensor forward(Tensor x) => fc.forward(x);
                [TrainingStep] Tensor TrainingStep((Tensor X, Tensor Y) batch) => functional.cross_entropy(forward(batch.X), batch.Y);
                [ConfigureOptimizers] Optimization ConfigureOptimizers() => torch.optim.Adam(parameters());
            }
            """ },
        { "hyperparameter without a constant default", "LTN0008", "error", """
            [LightningModule]
            public partial class NoDefault() : Module<Tensor, Tensor>(nameof(NoDefault))
            {
                [Hyperparameter] public double LearningRate { get; init; }   // <-
                private readonly TorchSharp.Modules.Linear fc = Linear(4, 2);
                public override Tensor forward(Tensor x) => fc.forward(x);
                [TrainingStep] Tensor TrainingStep((Tensor X, Tensor Y) batch) => functional.cross_entropy(forward(batch.X), batch.Y);
                [ConfigureOptimizers] Optimization ConfigureOptimizers() => torch.optim.Adam(parameters(), lr: LearningRate);
            }
            """ },
        { "monitored metric never logged", "LTN0013", "warning", """
            [LightningModule]
            public partial class Validated() : Module<Tensor, Tensor>(nameof(Validated))
            {
                private readonly TorchSharp.Modules.Linear fc = Linear(4, 2);
                public override Tensor forward(Tensor x) => fc.forward(x);
                [TrainingStep] Tensor TrainingStep((Tensor X, Tensor Y) batch) => functional.cross_entropy(forward(batch.X), batch.Y);
                [ValidationStep] void ValidationStep((Tensor X, Tensor Y) batch) =>
                    Log("val_acc", forward(batch.X).argmax(1).eq(batch.Y).to_type(ScalarType.Float32).mean());
                [ConfigureOptimizers] Optimization ConfigureOptimizers() => torch.optim.Adam(parameters());
            }

            public static class Checkpoints
            {
                public static ModelCheckpoint Best() => new ModelCheckpoint { Monitor = "val_accuracy", Mode = MonitorMode.Max };   // <-
            }
            """ },
        { "hook name typo", "LTN0017", "warning", """
            [Callback]
            public partial class Printer
            {
                void OnTrainEpochEnds(Trainer trainer) => Console.WriteLine(trainer.CurrentEpoch);   // <-
            }
            """ },
    };

    [Theory]
    [MemberData(nameof(Mistakes))]
    public void AMistakeIsReportedAtTheUsersLineAndNotInGeneratedCode(string mistake, string id, string severity, string source)
    {
        var (code, output, diagnostics) = BuildWithCase(Usings + source);
        var file = Path.Combine(consumer.App, "Case.cs");
        int line = (Usings + source).Split('\n').ToList().FindIndex(l => l.Contains("// <-", StringComparison.Ordinal)) + 1;
        var report = $"{mistake}: expected {severity} {id} at Case.cs line {line}; got\n{string.Join("\n", diagnostics)}\n\n{output}";

        Assert.True(diagnostics.Any(d => d.Id == id && d.Severity == severity && d.Path == file && d.Line == line), report);
        Assert.DoesNotContain(diagnostics, d => d.Severity == "error" && d.InGeneratedCode(consumer.App));
        if (severity == "warning")
            Assert.True(code == 0, report);   // a warning does not stop the build
        else
            Assert.True(code != 0, report);
    }

    /// <summary>
    /// PyTorch Lightning's batch_idx is an int; a user writing <c>int batchIdx</c> gets either a build that works (the
    /// generated call converts) or LTN0006 at that parameter, never an error in generated code.
    /// </summary>
    [Fact]
    public void AnIntBatchIndexBuildsOrIsReportedAtTheParameter()
    {
        const string source = """
            [LightningModule]
            public partial class IntIndex() : Module<Tensor, Tensor>(nameof(IntIndex))
            {
                private readonly TorchSharp.Modules.Linear fc = Linear(4, 2);
                public override Tensor forward(Tensor x) => fc.forward(x);

                [TrainingStep]
                Tensor TrainingStep((Tensor X, Tensor Y) batch,
                    int batchIdx)   // <-
                    => functional.cross_entropy(forward(batch.X), batch.Y);

                [ConfigureOptimizers] Optimization ConfigureOptimizers() => torch.optim.Adam(parameters());
            }
            """;
        var (code, output, diagnostics) = BuildWithCase(Usings + source);
        var file = Path.Combine(consumer.App, "Case.cs");
        int line = (Usings + source).Split('\n').ToList().FindIndex(l => l.Contains("// <-", StringComparison.Ordinal)) + 1;
        var report = $"int batchIdx: expected a clean build or LTN0006 at Case.cs line {line}; got\n{string.Join("\n", diagnostics)}\n\n{output}";

        Assert.DoesNotContain(diagnostics, d => d.Severity == "error" && d.InGeneratedCode(consumer.App));
        var errors = diagnostics.Where(d => d.Severity == "error").ToList();
        Assert.True(code == 0 && errors.Count == 0 || errors.Any(d => d.Id == "LTN0006" && d.Path == file && d.Line == line), report);
    }

    /// <summary>A compiler too old to load the generator is named before compiling, instead of CS0103 for every generated member.</summary>
    [Fact]
    public void ACompilerTooOldForTheGeneratorIsOneClearError()
    {
        File.Delete(Path.Combine(consumer.App, "Case.cs"));
        var (code, output, _) = consumer.Build("-p:LightningCompilerVersion=5.0.0.0");   // what the .NET SDK 10.0.100 has
        Assert.True(code != 0, output);
        Assert.Contains("error LTNCFG0001: Lightning's source generator needs the C# compiler 5.9 or newer", output);
        Assert.DoesNotContain("error CS", output);   // stopped before compiling
    }

    /// <summary>Adds <c>Case.cs</c> to the consumer (beside the correct Program.cs), builds, and takes it out again.</summary>
    private (int Code, string Output, IReadOnlyList<BuildDiagnostic> Diagnostics) BuildWithCase(string source)
    {
        var file = Path.Combine(consumer.App, "Case.cs");
        File.WriteAllText(file, source);
        try
        {
            return consumer.Build();
        }
        finally
        {
            File.Delete(file);
        }
    }
}

public sealed class BuildDiagnosticTests
{
    [Fact]
    public void TheCompilerVersionCheckFollowsTheRoslynTheGeneratorIsBuiltAgainst()
    {
        var repo = Path.GetDirectoryName(GeneratorHarness.ProjectDirectory())!;
        var roslyn = XDocument.Load(Path.Combine(repo, "Directory.Packages.props")).Descendants("PackageVersion")
            .Single(e => e.Attribute("Include")?.Value == "Microsoft.CodeAnalysis.CSharp").Attribute("Version")!.Value;
        var required = XDocument.Load(Path.Combine(repo, "Lightning.Runtime", "build", "Lightning.Runtime.targets"))
            .Descendants().Single(e => e.Name.LocalName == "LightningGeneratorCompilerVersion").Value;
        Assert.Equal(string.Join('.', roslyn.Split('.').Take(2)), required);
    }

    [Fact]
    public void MsBuildLinesAreParsedOncePerDiagnosticWithPathLineAndId()
    {
        const string output = """
              Determining projects to restore...
            /app/Case.cs(12,9): error LTN0005: 'backward()' is called in training-step code of 'M' [/app/App.csproj]
            /app/obj/Release/net10.0/generated/Lightning.Generators/X/M.Lightning.g.cs(6,22): error CS0535: 'M' does not implement 'I.F()' [/app/App.csproj]
            /app/App.csproj : warning NU1603: TorchSharp depends on SkiaSharp (>= 2.88.6) but 2.88.6 was not found.
            Build FAILED.

            /app/Case.cs(12,9): error LTN0005: 'backward()' is called in training-step code of 'M' [/app/App.csproj]
            /app/Case.cs(3,1,3,9): warning LTN0017: 'OnTrainEpochEnds' is not a Lightning hook, so it is never called; did you mean 'OnTrainEpochEnd'?
            """;
        var diagnostics = BuildDiagnostic.Parse(output);
        Assert.Equal(3, diagnostics.Count);
        Assert.Equal(new BuildDiagnostic("/app/Case.cs", 12, 9, "error", "LTN0005", "'backward()' is called in training-step code of 'M'"), diagnostics[0]);
        Assert.True(diagnostics[1].InGeneratedCode("/app"));
        Assert.False(diagnostics[0].InGeneratedCode("/app"));
        Assert.Equal(("warning", "LTN0017", 3), (diagnostics[2].Severity, diagnostics[2].Id, diagnostics[2].Line));
    }
}
