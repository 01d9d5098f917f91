using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using Lightning.Tests.Data;
using Lightning.Tests.Generation;
using Xunit;

namespace Lightning.Tests.Samples;

/// <summary>
/// The main job's commands, as README.md and docs/cli.md show them (<c>bash run.sh ARGS</c> runs
/// <c>dotnet samples/FashionMnist/bin/Release/net10.0/FashionMnist.dll ARGS</c>), each run as a child process with a time
/// limit on a tiny Fashion-MNIST look-alike and a tiny CNN: each exits as documented, with no stack trace.
/// </summary>
[Collection("Training")]
public sealed class FashionMnistCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("lightning-fashion-").FullName;
    private readonly string _data;

    public FashionMnistCommandTests()
    {
        _data = Path.Combine(_dir, "data");
        Directory.CreateDirectory(_data);
        // 5000 validation images (the sample's split) and 128 for training; random pixels, labels by brightness so it can learn.
        WriteSet("train", 5128, seed: 1);
        WriteSet("t10k", 64, seed: 2);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private void WriteSet(string prefix, int count, int seed)
    {
        var random = new Random(seed);
        var pixels = new byte[count * 28 * 28];
        var labels = new byte[count];
        for (int i = 0; i < count; i++)
        {
            labels[i] = (byte)random.Next(10);
            for (int p = 0; p < 28 * 28; p++) pixels[i * 784 + p] = (byte)Math.Min(255, labels[i] * 25 + random.Next(30));
        }
        IdxTestFiles.Write(Path.Combine(_data, $"{prefix}-images-idx3-ubyte.gz"), IdxTestFiles.Encode(0x08, [count, 28, 28], pixels), gzip: true);
        IdxTestFiles.Write(Path.Combine(_data, $"{prefix}-labels-idx1-ubyte.gz"), IdxTestFiles.Encode(0x08, [count], labels), gzip: true);
    }

    private static string Program() => ChildPrograms.Dll(Path.Combine("samples", "FashionMnist"), "FashionMnist");

    /// <summary>Runs the sample with <paramref name="args"/>, the tiny data and a tiny CNN; kills it after two minutes.</summary>
    private (int Code, string Output) Run(params string[] args) =>
        RunExactly(args.Contains("--help") ? args
            : args.Concat(new[] { "--data-dir", _data, "--filters1", "4", "--filters2", "8", "--limit-val-batches", "2", "--threads", "1" }).ToArray());

    /// <summary>Runs the sample with exactly <paramref name="args"/>; kills it after two minutes.</summary>
    private (int Code, string Output) RunExactly(params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = _dir };
        start.ArgumentList.Add(Program());
        foreach (var a in args) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            process.Kill(entireProcessTree: true);
            return (-1, "timed out\n" + stdout.Result + stderr.Result);
        }
        var output = stdout.Result + stderr.Result;
        Assert.DoesNotContain("Unhandled exception", output);
        Assert.DoesNotContain("   at ", output);   // no stack trace, whatever happened
        return (process.ExitCode, output);
    }

    [Fact]
    public void TheReadmesAndCliDocsCommandsExitAsDocumented()
    {
        // README: `bash run.sh --help`.
        var (code, text) = Run("--help");
        Assert.True(code == 0, text);
        Assert.Contains("--max-epochs", text);

        // README: `bash run.sh --max-epochs 1 --lr 3e-4`: trains, keeps the best checkpoint and tests it.
        (code, text) = Run("--max-epochs", "1", "--lr", "3e-4");
        Assert.True(code == 0, text);
        Assert.Contains("Test accuracy ", text);
        Assert.Contains("Epoch 0/0", text.Replace("\r", ""));   // epochs from 0, as Lightning

        // docs/cli.md: test --ckpt-path best; fit --ckpt-path last --max-epochs N (resume); validate --ckpt-path PATH; predict --ckpt-path last.
        (code, text) = Run("test", "--ckpt-path", "best");
        Assert.True(code == 0, text);
        Assert.Contains("test_acc ", text);

        (code, text) = Run("fit", "--ckpt-path", "last", "--max-epochs", "2");
        Assert.True(code == 0, text);
        Assert.Contains("Resumed from ", text);
        Assert.Contains("continuing at epoch 1, batch 0", text);

        var file = Directory.GetFiles(Path.Combine(_dir, "lightning_logs"), "*.ckpt", SearchOption.AllDirectories).First();
        (code, text) = Run("validate", "--ckpt-path", file);
        Assert.True(code == 0, text);
        Assert.Contains("val_acc ", text);

        (code, text) = Run("predict", "--ckpt-path", "last");
        Assert.True(code == 0, text);
        Assert.Contains("Predictions ", text);
    }

    [Fact]
    public void FitWithLrFindSetsLrToTheSuggestionAndDrawsThePlot()
    {
        // docs/lr-finder.md: `bash run.sh --lr-find --max-epochs 1`: the finder, then the fit with the found lr, then the test.
        var (code, text) = Run("--lr-find", "--max-epochs", "1");
        Assert.True(code == 0, text);
        Assert.Contains("Learning-rate finder: suggested learning rate ", text);
        Assert.Contains("; lr = ", text);
        Assert.Single(Directory.GetFiles(Path.Combine(_dir, "lightning_logs"), "lr_find.png", SearchOption.AllDirectories));
        Assert.Contains("Test accuracy ", text);
    }

    [System.Runtime.InteropServices.DllImport("libc")]
    private static extern int kill(int pid, int signal);

    [Fact]
    public async System.Threading.Tasks.Task SigtermPrintsTheTypedCommandToResumeAndThatCommandResumes()
    {
        // docs/preemption.md: `bash run.sh ...`, then SIGTERM: exit 143 and "Resume with: <the command typed> --ckpt-path <file>",
        // --data-dir (read by the sample itself, not by RunCli) included. Many short epochs and no early stop before them: the
        // signal lands mid-fit.
        var args = new[] { "--max-epochs", "400", "--min-epochs", "400", "--data-dir", _data, "--filters1", "4", "--filters2", "8", "--limit-val-batches", "1", "--threads", "1" };
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = _dir };
        start.ArgumentList.Add(Program());
        foreach (var a in args) start.ArgumentList.Add(a);
        using var child = Process.Start(start)!;
        var stderr = child.StandardError.ReadToEndAsync();
        var stdout = new System.Text.StringBuilder();
        using var limit = new System.Threading.CancellationTokenSource(TimeSpan.FromMinutes(2));
        try
        {
            while (await child.StandardOutput.ReadLineAsync(limit.Token) is string line)
            {
                stdout.AppendLine(line);
                if (line.StartsWith("Epoch 1/399 loss ", StringComparison.Ordinal)) Assert.Equal(0, kill(child.Id, 15));   // once: a second signal exits at once
            }
            await child.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException) { child.Kill(entireProcessTree: true); Assert.Fail("the sample did not stop within two minutes:\n" + stdout); }
        var err = await stderr;
        Assert.True(child.ExitCode == 143, $"exit {child.ExitCode}\n{stdout}{err}");
        Assert.DoesNotContain("   at ", err);
        var resume = err.Split('\n').SingleOrDefault(l => l.StartsWith("Resume with: ", StringComparison.Ordinal));
        Assert.True(resume is not null, "no resume command:\n" + stdout + err);
        Assert.StartsWith($"Resume with: dotnet {Program()} {string.Join(' ', args)} --ckpt-path ", resume);
        var checkpoint = resume[(resume.LastIndexOf(" --ckpt-path ", StringComparison.Ordinal) + " --ckpt-path ".Length)..].Trim();
        Assert.True(File.Exists(checkpoint), checkpoint);

        // The printed command, run as printed (its words need no quoting here), continues the fit; fewer epochs, to end soon.
        var (code, text) = RunExactly(resume["Resume with: dotnet ".Length..].Trim().Split(' ').Skip(1).Select(a => a == "400" ? "5" : a).ToArray());
        Assert.True(code == 0, text);
        Assert.Contains($"Resumed from {checkpoint}: continuing at epoch ", text);
        Assert.Contains("Test accuracy ", text);
    }

    [Fact]
    public void FitWithTheSimpleProfilerPrintsItsTableAndWritesProfileCsv()
    {
        // docs/profiler.md: `bash run.sh --profiler simple`: the fit, its table of time per action, profile.csv in the run folder.
        var (code, text) = Run("--profiler", "simple", "--max-epochs", "1");
        Assert.True(code == 0, text);
        Assert.Contains("FIT Profiler Report", text);
        Assert.Contains("[_TrainingEpochLoop].train_dataloader_next", text);
        Assert.Single(Directory.GetFiles(Path.Combine(_dir, "lightning_logs"), "profile.csv", SearchOption.AllDirectories));
    }

    [Theory]
    [InlineData("--fast-dev-run", "1", "No checkpoint was written (fast_dev_run)")]
    [InlineData("--max-epochs", "0", "No checkpoint was written (no training step ran)")]
    public void TheSmokeTestsEndCleanlyAndSayWhyNothingWasTested(string option, string value, string expected)
    {
        var (code, text) = Run(option, value);
        Assert.True(code == 0, text);
        Assert.Contains(expected, text);
    }

    [Theory]
    [InlineData("--max-epochs", "-5", "error: --max-epochs is -5; expected -1 (no limit) or 0 or more.")]
    [InlineData("--max-epochs", "many", "error: --max-epochs: 'many' is not valid")]
    [InlineData("--ckpt-path", "lightning_logs", "is a folder")]
    public void BadValuesEndWithExitTwoAndOneLine(string option, string value, string expected)
    {
        Directory.CreateDirectory(Path.Combine(_dir, "lightning_logs"));
        var (code, text) = Run(option, value);
        Assert.True(code == 2, text);
        Assert.Contains(expected, text);
        Assert.Equal(2, text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);   // the error and the pointer to --help
    }
}
