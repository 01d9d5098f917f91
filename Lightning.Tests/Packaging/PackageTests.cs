using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using Lightning.Tests.Generation;
using Xunit;

namespace Lightning.Tests.Packaging;

/// <summary>
/// The three packages as a user gets them: packed to a folder, referenced by a fresh console project (with only that
/// folder added to the machine's package sources), built (the generator runs, the native-loading targets apply),
/// run (a tiny model trains), and built again with a mistake (an analyzer error stops the build).
/// </summary>
[Collection("Training")]
public sealed class PackageTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("lightning-pack-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    private static (int Code, string Output) Dotnet(string arguments, string workingDirectory, int timeoutMinutes = 5)
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

    [Fact]
    public void PackedPackagesGiveAFreshProjectTheGeneratorTheDiagnosticsAndATrainingModel()
    {
        var repo = Path.GetDirectoryName(GeneratorHarness.ProjectDirectory())!;
        var feed = Path.Combine(_dir, "feed");
        // A version of its own, so the machine's package cache never serves an older build of the same number.
        var version = "0.1.0-test" + DateTime.UtcNow.ToString("yyyyMMddHHmmssfff");
        foreach (var project in new[] { "Lightning.Abstractions", "Lightning.Runtime", "Lightning.Generators" })
        {
            // --no-build: the suite runs after the Release build of the whole solution (test.sh), so pack what it built.
            var (code, output) = Dotnet($"pack {project} -c Release --no-build -o \"{feed}\" -p:PackageVersion={version} -nologo", repo);
            Assert.True(code == 0, output);
        }
        Assert.Equal(3, Directory.GetFiles(feed, "*.nupkg").Length);

        var app = Path.Combine(_dir, "app");
        Directory.CreateDirectory(app);
        // Adds the folder to the machine's sources (no <clear/>: the default source stays).
        File.WriteAllText(Path.Combine(app, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <add key="lightning-local" value="{feed}" />
              </packageSources>
            </configuration>
            """);
        File.WriteAllText(Path.Combine(app, "App.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <Nullable>enable</Nullable>
                <NoWarn>NU1603</NoWarn>
                <NuGetAudit>false</NuGetAudit>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="Lightning.Runtime" Version="{version}" />
                <PackageReference Include="Lightning.Generators" Version="{version}" />
                <PackageReference Include="libtorch-cpu-linux-x64" Version="2.10.0" />
              </ItemGroup>
            </Project>
            """);
        File.WriteAllText(Path.Combine(app, "Program.cs"), """
            using System;
            using System.Linq;
            using Lightning;
            using Lightning.Data;
            using TorchSharp;
            using static TorchSharp.torch;
            using static TorchSharp.torch.nn;

            var trainer = new Trainer(new TrainerOptions { MaxEpochs = 3, Seed = 1, EnableProgressBar = false, EnableModelSummary = false });
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

        var (built, buildOutput) = Dotnet("build -c Release -nologo", app);
        Assert.True(built == 0, buildOutput);
        var (ran, runOutput) = Dotnet("bin/Release/net10.0/App.dll", app);
        Assert.True(ran == 0, runOutput);
        var numbers = System.Text.RegularExpressions.Regex.Match(runOutput, @"loss (\d+\.\d+) -> (\d+\.\d+); hidden 8");
        Assert.True(numbers.Success, runOutput);
        Assert.True(double.Parse(numbers.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture)
            < double.Parse(numbers.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), runOutput);

        // A mistake the analyzers catch at build time: a module that is not partial.
        File.WriteAllText(Path.Combine(app, "Bad.cs"), """
            using Lightning;
            using TorchSharp;
            using static TorchSharp.torch;
            [LightningModule]
            public class Bad : nn.Module<Tensor, Tensor>
            {
                public Bad() : base(nameof(Bad)) { }
                public override Tensor forward(Tensor x) => x;
            }
            """);
        var (broken, brokenOutput) = Dotnet("build -c Release -nologo", app);
        Assert.NotEqual(0, broken);
        Assert.Contains("error LTN0001", brokenOutput);
        Assert.Contains("'Bad' must be declared partial", brokenOutput);
    }
}
