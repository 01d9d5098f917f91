using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using Lightning.Checkpoints;
using Lightning.Tests.Generation;
using Xunit;
using Xunit.Abstractions;

namespace Lightning.Tests.Checkpoints;

/// <summary>
/// SIGKILL while checkpoints are being written, as a preempted job or an impatient user: a child process saves after every
/// step and is killed at random moments, many times over. Every <c>.ckpt</c> left behind loads; what an interrupted write
/// left (<c>*.ckpt.tmp-*</c>) is never a checkpoint and is removed by the next save into the folder.
/// </summary>
[Collection("Training")]
public sealed class KilledSaveTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("lightning-kill-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string ProbeProgram() => ChildPrograms.Probe;

    private static Process Start(params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(ProbeProgram());
        foreach (var a in args) start.ArgumentList.Add(a);
        return Process.Start(start)!;
    }

    private List<string> Leftovers() =>
        Directory.GetFiles(_dir, "*.ckpt.tmp-*").Where(f => SafetensorsFile.IsTemporaryName(Path.GetFileName(f))).ToList();

    [Fact]
    public async System.Threading.Tasks.Task KillingASaveNeverLeavesABrokenCheckpointAndTheNextSaveRemovesItsTemporaryFile()
    {
        var random = new Random(17);
        int rounds = 12, leftoversSeen = 0, removed = 0;
        for (int round = 0; round < rounds; round++)
        {
            var before = Leftovers();
            using var child = Start("save-loop", _dir);
            var stderr = child.StandardError.ReadToEndAsync();
            string? ready;
            try { ready = await child.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60)); }
            catch (TimeoutException) { ready = null; }
            Assert.True(ready == "READY", "the probe did not start saving: " + (child.HasExited ? await stderr : "timed out"));
            // The first save of this run has happened: the leftovers of earlier kills are gone.
            Assert.All(before, f => Assert.False(File.Exists(f), $"{f} survived the next save into its folder"));
            removed += before.Count;
            await System.Threading.Tasks.Task.Delay(random.Next(20, 900));
            child.Kill(entireProcessTree: true);   // SIGKILL: no finally block, no flush
            Assert.True(child.WaitForExit(30_000));
            leftoversSeen += Leftovers().Count;

            using var verify = Start("verify", _dir);
            var text = await verify.StandardOutput.ReadToEndAsync() + await verify.StandardError.ReadToEndAsync();
            Assert.True(verify.WaitForExit(60_000), "verify timed out");
            Assert.True(verify.ExitCode == 0, $"round {round}: a checkpoint left by a killed save does not load:\n{text}");
        }
        output.WriteLine($"{rounds} kills; {leftoversSeen} interrupted writes left a temporary file, {removed} removed by the next save; every .ckpt loaded");
        // "last" and "best" only ever see .ckpt files: a temporary file is never resolved as a checkpoint.
        Assert.DoesNotContain(Directory.GetFiles(_dir, "*.ckpt"), f => f.Contains(".tmp-", StringComparison.Ordinal));
    }
}
