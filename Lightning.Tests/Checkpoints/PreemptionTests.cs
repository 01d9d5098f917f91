using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Threading.Tasks;
using Lightning.Checkpoints;
using Xunit;
using Xunit.Abstractions;

namespace Lightning.Tests.Checkpoints;

/// <summary>
/// SIGTERM in the middle of a fit, as a scheduler preempting the job (issue 16): the child (FuzzNet's generated command line,
/// Lightning.Tests.Probe <c>cli</c>) stops after the current batch, writes <c>last.ckpt</c>, prints how to resume and exits
/// with 143 (Lightning's SIGTERMException code, 128 + 15); <c>--ckpt-path last</c> then continues, and the final weights,
/// optimizer state and logged epoch values equal an uninterrupted run's bit for bit.
/// </summary>
[Collection("Training")]
public sealed class PreemptionTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("lightning-preempt-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int signal);

    private const int SIGTERM = 15;

    private static Process Start(IEnumerable<string> args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(ChildPrograms.Probe);
        start.ArgumentList.Add("cli");
        foreach (var a in args) start.ArgumentList.Add(a);
        return Process.Start(start)!;
    }

    private static string[] FitArgs(string root) => new[] { "fit", "--max-epochs", "3", "--seed", "7", "--default-root-dir", root };

    /// <summary>Runs the child to the end (60 s at most); returns its exit code and output.</summary>
    private static async Task<(int Exit, string Out, string Err)> RunToEnd(IEnumerable<string> args)
    {
        using var child = Start(args);
        var stdout = child.StandardOutput.ReadToEndAsync();
        var stderr = child.StandardError.ReadToEndAsync();
        using var limit = new System.Threading.CancellationTokenSource(TimeSpan.FromSeconds(60));
        try { await child.WaitForExitAsync(limit.Token); }
        catch (OperationCanceledException) { child.Kill(entireProcessTree: true); Assert.Fail("the child did not finish within 60 s"); }
        return (child.ExitCode, await stdout, await stderr);
    }

    /// <summary>Starts a fit, sends SIGTERM once it printed STEP <paramref name="step"/>, and waits for it to end (60 s at most).</summary>
    private static async Task<(int Exit, string Out, string Err)> RunAndTerminate(IEnumerable<string> args, long step)
    {
        using var child = Start(args);
        var stderr = child.StandardError.ReadToEndAsync();
        var text = new System.Text.StringBuilder();
        using var limit = new System.Threading.CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            while (await child.StandardOutput.ReadLineAsync(limit.Token) is string line)
            {
                text.AppendLine(line);
                if (line == "STEP " + step.ToString(CultureInfo.InvariantCulture)) Assert.Equal(0, kill(child.Id, SIGTERM));
            }
            await child.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException) { child.Kill(entireProcessTree: true); Assert.Fail("the signalled child did not end within 60 s"); }
        return (child.ExitCode, text.ToString(), await stderr);
    }

    private static Dictionary<string, byte[]> Tensors(string path)
    {
        var file = SafetensorsFile.Read(path);
        var result = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var (name, tensor) in file.LoadAll())
        {
            using (tensor)
            {
                if (!name.StartsWith("model.", StringComparison.Ordinal) && !name.StartsWith("optimizer.", StringComparison.Ordinal)) continue;
                using var c = tensor.contiguous();
                result[name] = c.bytes.ToArray();
            }
        }
        return result;
    }

    /// <summary>Every epoch-level value in the run folders' metrics.csv files: (epoch, column) → value text.</summary>
    private static SortedDictionary<string, string> EpochValues(string root)
    {
        var values = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var csv in Directory.GetFiles(Path.Combine(root, "lightning_logs"), "metrics.csv", SearchOption.AllDirectories))
        {
            var lines = File.ReadAllLines(csv);
            var header = lines[0].Split(',');
            foreach (var row in lines.Skip(1).Select(l => l.Split(',')))
                for (int i = 0; i < header.Length; i++)
                    if ((header[i] == "val_loss" || header[i].EndsWith("_epoch", StringComparison.Ordinal)) && row[i].Length > 0)
                        values[$"epoch {row[Array.IndexOf(header, "epoch")]} {header[i]}"] = row[i];
        }
        return values;
    }

    private static string FinalCheckpoint(string root) =>
        Directory.GetFiles(Path.Combine(root, "lightning_logs"), "epoch=2-step=18.ckpt", SearchOption.AllDirectories).Single();

    [Fact]
    public async Task SigtermStopsAtABatchWithACheckpointAndTheResumedFitEndsBitwiseAsAnUninterruptedOne()
    {
        var straight = Path.Combine(_dir, "straight");
        var (exit, _, err) = await RunToEnd(FitArgs(straight));
        Assert.True(exit == 0, err);
        var expected = Tensors(FinalCheckpoint(straight));
        var expectedValues = EpochValues(straight);
        Assert.Contains(expected.Keys, k => k.StartsWith("optimizer.state.", StringComparison.Ordinal));
        Assert.Equal(6, expectedValues.Count(v => v.Key.EndsWith("val_loss", StringComparison.Ordinal) || v.Key.EndsWith("loss_epoch", StringComparison.Ordinal)));

        var random = new Random(16);
        // 18 optimizer steps (3 epochs of 6 batches); a signal after step s stops a batch or two later (the handler runs on its own
        // thread), so the last epoch's step leaves at least three paced batches before the fit would end.
        foreach (var step in new[] { random.Next(1, 6), random.Next(7, 12), random.Next(12, 15) })
        {
            var root = Path.Combine(_dir, "step" + step.ToString(CultureInfo.InvariantCulture));
            var stopped = await RunAndTerminate(FitArgs(root), step);
            Assert.True(stopped.Exit == 143, $"exit {stopped.Exit} after SIGTERM at step {step}:\n{stopped.Err}");
            var resumeLine = stopped.Err.Split('\n').Single(l => l.StartsWith("Resume with: ", StringComparison.Ordinal));
            var last = Directory.GetFiles(Path.Combine(root, "lightning_logs"), "last.ckpt", SearchOption.AllDirectories).Single();
            Assert.Contains("--ckpt-path " + last, resumeLine, StringComparison.Ordinal);
            Assert.Contains("fit --max-epochs 3 --seed 7", resumeLine, StringComparison.Ordinal);
            Assert.Contains("Stopped by SIGTERM at epoch", stopped.Err, StringComparison.Ordinal);
            Assert.DoesNotContain("   at ", stopped.Err, StringComparison.Ordinal);   // no stack trace
            var position = Checkpoint.Open(last, "Lightning.Tests.Probe.FuzzNet").ReadPosition(automaticOptimization: true);
            Assert.InRange(position.GlobalStep, step, 17);   // mid-fit, at or after the signalled step

            var resumed = await RunToEnd(FitArgs(root).Concat(new[] { "--ckpt-path", "last" }));
            Assert.True(resumed.Exit == 0, resumed.Err);
            Assert.Contains($"Resumed from {last}", resumed.Out, StringComparison.Ordinal);
            var actual = Tensors(FinalCheckpoint(root));
            Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
            foreach (var (name, bytes) in expected)
                Assert.True(bytes.AsSpan().SequenceEqual(actual[name]), $"{name} differs after a SIGTERM at step {step} and a resume");
            Assert.Equal(expectedValues, EpochValues(root));
            output.WriteLine($"SIGTERM after step {step}: stopped at epoch {position.Epoch}, batch {position.BatchInEpoch}, step {position.GlobalStep}; " +
                $"resumed run equal in {expected.Count} tensors and {expectedValues.Count} epoch values");
        }
    }
}
