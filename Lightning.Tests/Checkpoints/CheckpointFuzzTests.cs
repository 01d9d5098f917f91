using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.RegularExpressions;
using System.Threading;
using System.Threading.Tasks;
using Lightning.Tests.Generation;
using Lightning.Tests.Probe;
using Xunit;
using Xunit.Abstractions;

namespace Lightning.Tests.Checkpoints;

/// <summary>
/// The checkpoint promise, fuzzed: any bytes give either a correct load or a <c>CheckpointException</c> that names the
/// file; never a native abort, another exception, a hang, or memory out of proportion to the file. Base checkpoints of a
/// tiny module (Lightning.Tests.Probe) are mutated structure-aware (<see cref="CheckpointMutations"/>, several thousand
/// variants, seeded) and each variant is loaded with <c>LoadFromCheckpoint</c> and resumed with <c>Fit(ckptPath:)</c> in
/// a child process, so that an abort or a hang is observed here and the remaining variants go on in a new child.
/// </summary>
[Collection("Training")]
public sealed partial class CheckpointFuzzTests : IDisposable
{
    /// <summary>
    /// No RESULT within this time is a hang. A variant takes milliseconds (a few tiny epochs at most; the slowest completed
    /// one, 1,000,000 replayed scheduler steps, about 1.3 s, is in the summary), so this leaves a wide margin for a loaded
    /// machine. Env LIGHTNING_FUZZ_TIMEOUT_S overrides it.
    /// </summary>
    private static readonly TimeSpan VariantTimeLimit = TimeSpan.FromSeconds(
        int.TryParse(Environment.GetEnvironmentVariable("LIGHTNING_FUZZ_TIMEOUT_S"), out var s) && s > 0 ? s : 20);

    /// <summary>
    /// Peak RSS allowed while one variant loads. The probe runs at ~190 MB (.NET, libtorch, a warm-up fit); the files are
    /// 1–200 KB, and a correct load of any of them needs a few MB more. 1 GiB leaves room for allocator noise and still
    /// catches a file that makes the loader allocate by what it claims (shapes, counts, lengths) rather than by what it holds.
    /// </summary>
    private const long PeakRssLimitKb = 1024 * 1024;

    private readonly ITestOutputHelper _output;
    private readonly string _dir = Directory.CreateTempSubdirectory("lightning-fuzz-").FullName;
    private bool _keep;

    public CheckpointFuzzTests(ITestOutputHelper output) => _output = output;

    public void Dispose()
    {
        if (!_keep) Directory.Delete(_dir, recursive: true);
    }

    private static string ProbeProgram() => ChildPrograms.Probe;

    [Fact]
    public void EveryMutatedCheckpointLoadsOrFailsWithACheckpointException()
    {
        var clock = Stopwatch.StartNew();
        Assert.True(File.Exists(ProbeProgram()), $"build Lightning.Tests.Probe first: {ProbeProgram()} is missing");
        var baseDir = Path.Combine(_dir, "base");
        var (code, text) = RunProbe(TimeSpan.FromMinutes(3), "make", baseDir);
        Assert.True(code == 0, "the probe could not write the base checkpoints:\n" + text);

        var variantsDir = Path.Combine(_dir, "variants");
        var variants = CheckpointMutations.Generate(baseDir, variantsDir);
        var generated = clock.Elapsed;

        var results = new FuzzResult[variants.Count];
        int next = -1;
        int workers = Math.Clamp(Environment.ProcessorCount, 1, 2);
        var children = new ConcurrentBag<int>();
        var notes = new ConcurrentBag<string>();
        Parallel.For(0, workers, new ParallelOptions { MaxDegreeOfParallelism = workers }, _ =>
        {
            using var child = new ProbeChild(ProbeProgram(), _dir, VariantTimeLimit, notes);
            int i;
            while ((i = Interlocked.Increment(ref next)) < variants.Count) results[i] = child.Run(variants[i]);
            children.Add(child.Started);
        });
        clock.Stop();

        var summary = Summarize(results, generated, clock.Elapsed, children.Sum(), notes.Distinct().ToList());
        var summaryPath = Path.Combine(_dir, "summary.txt");
        File.WriteAllText(summaryPath, summary);
        _output.WriteLine(summary);

        var failures = results.Where(r => r.Failed).ToList();
        var controls = results.Where(r => r.Variant.Name.EndsWith("/identity", StringComparison.Ordinal)).ToList();
        if (failures.Count > 0 || controls.Any(r => r.Outcome is not ("ok" or "clean")))
        {
            // Keep the summary and the failing files (with their names) to reproduce them; drop the thousands that passed.
            _keep = true;
            var kept = Path.Combine(_dir, "failures");
            Directory.CreateDirectory(kept);
            foreach (var r in failures) File.Copy(r.Variant.Path, Path.Combine(kept, Path.GetFileName(r.Variant.Path)), overwrite: true);
            File.WriteAllLines(Path.Combine(kept, "manifest.tsv"), failures.Select(r => Path.Combine(kept, Path.GetFileName(r.Variant.Path)) + "\t" + r.Variant.Name));
            Directory.Delete(variantsDir, recursive: true);
            if (Directory.Exists(Path.Combine(_dir, "scratch"))) Directory.Delete(Path.Combine(_dir, "scratch"), recursive: true);
        }

        Assert.True(variants.Count >= 1000, $"only {variants.Count} variants");
        // The weights-only base loads, and a fit refuses to resume from it (it has no optimizer or random state).
        static bool ControlOk(FuzzResult r) => r.Outcome == "ok"
            || (r.Variant.Name.StartsWith("weights/", StringComparison.Ordinal) && r.Outcome == "clean" && r.Line.Contains("holds weights only", StringComparison.Ordinal));
        Assert.True(controls.Count == 3 && controls.All(ControlOk),
            "the unmutated base checkpoints must load (else the harness is broken):\n" + string.Join("\n", controls.Select(r => r.Line)));
        var crashes = failures.Count(r => r.Outcome == "crash");
        var hangs = failures.Count(r => r.Outcome == "hang");
        var unhandled = failures.Count(r => r.Outcome == "unhandled");
        var memory = failures.Count(r => r.Outcome is "ok" or "clean");
        Assert.True(failures.Count == 0,
            $"{crashes} crashes, {hangs} hangs, {unhandled} unhandled exceptions, {memory} over the peak RSS limit of {PeakRssLimitKb / 1024} MB " +
            $"among {variants.Count} variants (summary and failing files in {_dir}; replay: cut -f1 failures/manifest.tsv | dotnet {ProbeProgram()} load):\n" +
            string.Join("\n", failures.Select(r => r.Line)));
    }

    /// <summary>One variant's outcome: ok, clean, unhandled (from the probe's RESULT line), crash or hang.</summary>
    private sealed record FuzzResult(FuzzVariant Variant, string Outcome, string Type, string Message, long PeakRssKb, long FileBytes,
        TimeSpan Elapsed, IReadOnlyList<string> Parts)
    {
        public bool OverMemory => PeakRssKb > PeakRssLimitKb;

        public bool Failed => Outcome is "crash" or "hang" or "unhandled" || OverMemory;

        public string Line =>
            $"{Variant.Name} [{Path.GetFileName(Variant.Path)}]: {Outcome}{(OverMemory ? $" (peak RSS {PeakRssKb / 1024} MB)" : "")} {Type} {Message}";
    }

    // ------------------------------------------------------------------ the child process

    /// <summary>
    /// A <c>load</c> child fed one path at a time. A child that dies takes the variant it STARTed with it (a crash); one
    /// silent for <see cref="VariantTimeLimit"/> is killed (a hang); either way the next variant gets a new child.
    /// </summary>
    private sealed class ProbeChild(string program, string workDir, TimeSpan limit, ConcurrentBag<string> notes) : IDisposable
    {
        private Process? _process;
        private BlockingCollection<string?>? _lines;
        private readonly StringBuilder _stderr = new();

        /// <summary>Children started (1 plus one per crash or hang).</summary>
        public int Started { get; private set; }

        public FuzzResult Run(FuzzVariant variant)
        {
            long size = new FileInfo(variant.Path).Length;
            for (int attempt = 0; ; attempt++)
            {
                if (_process is null) Start();
                lock (_stderr) _stderr.Clear();
                try
                {
                    _process!.StandardInput.WriteLine(variant.Path);
                    _process.StandardInput.Flush();
                }
                catch (IOException) when (attempt == 0)
                {
                    Stop();   // it died between variants: give this one to a fresh child
                    continue;
                }
                return Await(variant, size);
            }
        }

        private FuzzResult Await(FuzzVariant variant, long size)
        {
            var clock = Stopwatch.StartNew();
            var parts = new List<string>();
            while (true)
            {
                var remaining = limit - clock.Elapsed;
                if (remaining <= TimeSpan.Zero || !_lines!.TryTake(out var line, remaining))
                {
                    Stop();
                    return new FuzzResult(variant, "hang", "-", $"no result within {limit.TotalSeconds:0} s (child killed)", 0, size, clock.Elapsed, parts);
                }
                if (line is null)
                {
                    // Its output ended: it is exiting (an abort), or it closed stdout and is stuck; either way it is done.
                    if (!_process!.WaitForExit(TimeSpan.FromSeconds(30))) _process.Kill(entireProcessTree: true);
                    _process.WaitForExit();
                    int code = _process.ExitCode;
                    string message;
                    lock (_stderr) message = CrashMessage(_stderr.ToString());
                    Stop();
                    return new FuzzResult(variant, "crash", $"exit {code}", message, 0, size, clock.Elapsed, parts);
                }
                if (line.StartsWith("PART ", StringComparison.Ordinal)) parts.Add(line["PART ".Length..]);
                else if (line.StartsWith("RESULT ", StringComparison.Ordinal))
                {
                    // RESULT <path> <status> <type> <message...> <peak-rss-kb>
                    var t = line.Split(' ');
                    Assert.True(t.Length >= 6 && t[1] == variant.Path, $"unexpected probe line for {variant.Path}: {line}");
                    long rss = long.Parse(t[^1], CultureInfo.InvariantCulture);
                    return new FuzzResult(variant, t[2], t[3], string.Join(' ', t[4..^1]), rss, size, clock.Elapsed, parts);
                }
            }
        }

        /// <summary>The line of a native abort that says what happened (libtorch's <c>what():</c>), else the last lines.</summary>
        private static string CrashMessage(string stderr)
        {
            var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            var what = lines.FirstOrDefault(l => l.StartsWith("what():", StringComparison.Ordinal));
            var text = what ?? string.Join(" | ", lines.Where(l => !l.StartsWith("frame #", StringComparison.Ordinal)).TakeLast(3));
            return text.Length == 0 ? "(nothing on stderr)" : text.Length <= 300 ? text : text[..300] + "…";
        }

        private void Start()
        {
            var start = new ProcessStartInfo("dotnet")
            {
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
                WorkingDirectory = workDir,
            };
            start.ArgumentList.Add(program);
            start.ArgumentList.Add("load");
            start.Environment["LIGHTNING_PROBE_SCRATCH"] = Path.Combine(workDir, "scratch");
            var process = Process.Start(start)!;
            var lines = new BlockingCollection<string?>();
            process.ErrorDataReceived += (_, e) =>
            {
                if (e.Data is null) return;
                lock (_stderr) if (_stderr.Length < 1 << 16) _stderr.AppendLine(e.Data);
            };
            process.BeginErrorReadLine();
            var reader = new Thread(() =>
            {
                try
                {
                    string? l;
                    while ((l = process.StandardOutput.ReadLine()) is not null) lines.Add(l);
                }
                catch (Exception e) when (e is IOException or ObjectDisposedException) { }
                lines.Add(null);
            }) { IsBackground = true, Name = "probe stdout" };
            reader.Start();
            _process = process;
            _lines = lines;
            Started++;
            // The warm-up (library loading, JIT, one tiny fit) before the first variant, with its own generous limit.
            while (true)
            {
                if (!lines.TryTake(out var line, TimeSpan.FromMinutes(2)) || line is null)
                {
                    string err;
                    lock (_stderr) err = _stderr.ToString();
                    Stop();
                    throw new InvalidOperationException("the probe did not start: " + err);
                }
                if (line == "READY") break;
                notes.Add(line);
            }
        }

        private void Stop()
        {
            if (_process is null) return;
            try
            {
                if (!_process.HasExited) _process.Kill(entireProcessTree: true);
                _process.WaitForExit();
            }
            catch (InvalidOperationException) { }
            _process.Dispose();
            _process = null;
        }

        public void Dispose()
        {
            if (_process is { HasExited: false })
            {
                try
                {
                    _process.StandardInput.Close();   // end of input: the child exits by itself
                    if (!_process.WaitForExit(TimeSpan.FromSeconds(10))) _process.Kill(entireProcessTree: true);
                }
                catch (IOException) { }
            }
            Stop();
        }
    }

    private (int Code, string Output) RunProbe(TimeSpan timeout, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = _dir };
        start.ArgumentList.Add(ProbeProgram());
        foreach (var a in args) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            return (-1, "timed out\n" + stdout.Result + stderr.Result);
        }
        return (process.ExitCode, stdout.Result + stderr.Result);
    }

    // ------------------------------------------------------------------ the summary

    private static string Summarize(FuzzResult[] results, TimeSpan generated, TimeSpan total, int children, List<string> notes)
    {
        var ci = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        int Count(string outcome) => results.Count(r => r.Outcome == outcome);
        sb.AppendLine($"checkpoint fuzz: {results.Length} variants of {results.Select(r => r.Variant.Name.Split('/')[0]).Distinct().Count()} base checkpoints, " +
            $"{children} child processes, {total.TotalSeconds.ToString("0.0", ci)} s (generation {generated.TotalSeconds.ToString("0.0", ci)} s)");
        sb.AppendLine($"ok {Count("ok")}, clean {Count("clean")}, unhandled {Count("unhandled")}, crashes {Count("crash")}, hangs {Count("hang")}, " +
            $"over the peak RSS limit {results.Count(r => r.OverMemory)}");
        foreach (var note in notes) sb.AppendLine("probe: " + note);

        var measured = results.Where(r => r.PeakRssKb > 0).ToList();
        if (measured.Count > 0)
        {
            var max = measured.MaxBy(r => r.PeakRssKb)!;
            var median = measured.Select(r => r.PeakRssKb).Order().ElementAt(measured.Count / 2);
            // Over the probe's own size (the median), per byte of file; files under 1 KiB would only measure noise.
            var growth = measured.Where(r => r.FileBytes >= 1024).MaxBy(r => (double)(r.PeakRssKb - median) / r.FileBytes);
            sb.AppendLine($"peak RSS: median {median / 1024} MB (the probe's own size), max {max.PeakRssKb / 1024} MB ({max.Variant.Name}, {max.FileBytes} bytes, " +
                $"{(max.PeakRssKb - median) / 1024} MB over the median, {((double)max.PeakRssKb * 1024 / Math.Max(1, max.FileBytes)).ToString("0", ci)} x its file size)" +
                (growth is null ? "" : $"; max (peak RSS - median) / file size {((double)(growth.PeakRssKb - median) * 1024 / growth.FileBytes).ToString("0.0", ci)} " +
                    $"({growth.Variant.Name}, {growth.FileBytes} bytes)"));
            sb.AppendLine("largest peaks: " + string.Join("; ", measured.OrderByDescending(r => r.PeakRssKb).Take(5).Select(r => $"{r.Variant.Name} {r.PeakRssKb / 1024} MB")));
        }
        var completed = results.Where(r => r.Outcome is not ("hang" or "crash")).ToList();
        if (completed.Count > 0)
        {
            var slowest = completed.MaxBy(r => r.Elapsed)!;
            sb.AppendLine($"slowest completed variant: {slowest.Elapsed.TotalMilliseconds.ToString("0", ci)} ms ({slowest.Variant.Name}); time limit {VariantTimeLimit.TotalSeconds} s");
        }

        // The exception types behind each outcome, per part (load = LoadFromCheckpoint, fit = the resumed fit).
        sb.AppendLine("exception types seen:");
        foreach (var g in results.SelectMany(r => r.Parts).Select(p => p.Split(' ', 4)).Where(p => p.Length >= 3 && p[1] != "ok")
            .GroupBy(p => $"{p[0]} {p[1]} {p[2]}").OrderBy(g => g.Key, StringComparer.Ordinal))
            sb.AppendLine($"  {g.Key}: {g.Count()}");

        // Failures grouped by cause: outcome, type and the message with file names and numbers masked.
        var failures = results.Where(r => r.Failed).ToList();
        sb.AppendLine($"failures by cause ({failures.Count}):");
        foreach (var g in failures.GroupBy(r => $"{r.Outcome}{(r.OverMemory ? "+memory" : "")} {r.Type} {Mask(r.Message, r.Variant.Path)}")
            .OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal))
        {
            sb.AppendLine($"  [{g.Count()}] {g.Key}");
            sb.AppendLine("      " + string.Join(", ", g.Select(r => r.Variant.Name).Take(12)) + (g.Count() > 12 ? $", … ({g.Count() - 12} more)" : ""));
        }
        sb.AppendLine("failing variants:");
        foreach (var r in failures) sb.AppendLine("  " + r.Line);
        // Loads that succeeded are not failures, but a corruption that loads silently is worth a look.
        sb.AppendLine("variants that loaded and resumed without an error (ok):");
        foreach (var r in results.Where(r => r.Outcome == "ok")) sb.AppendLine("  " + r.Variant.Name);
        return sb.ToString();
    }

    private static string Mask(string message, string path)
    {
        var s = message.Replace(path, "<file>", StringComparison.Ordinal);
        s = TempPath().Replace(s, "<path>");
        s = Number().Replace(s, "#");
        return s.Length <= 160 ? s : s[..160] + "…";
    }

    [GeneratedRegex(@"/tmp/[^\s'"",)]*")]
    private static partial Regex TempPath();

    [GeneratedRegex(@"-?\d+(\.\d+)?([eE][+-]?\d+)?")]
    private static partial Regex Number();
}
