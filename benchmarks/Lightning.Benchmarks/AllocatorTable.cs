using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using TorchSharp;

namespace Lightning.Benchmarks;

/// <summary>
/// The hand loop of the seed CNN under each allocator policy. glibc's malloc settings cannot be undone in a
/// process, so every cell runs in a fresh child process (this program re-executed with <c>--hand-only</c>).
/// </summary>
public static class AllocatorTable
{
    private const string TcmallocPath = "/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4";

    private sealed record Row(string Label, AllocatorPolicy Policy, string? Preload);

    public static int Run(List<int> batchSizes, int reps, int? steps, int threads, string dataKind, IReadOnlyCollection<string>? only, TextWriter log)
    {
        var rows = new List<Row>
        {
            new("None (glibc default)", AllocatorPolicy.None, null),
            new("TrimAndMmapThreshold", AllocatorPolicy.TrimAndMmapThreshold, null),
            new("TopPad", AllocatorPolicy.TopPad, null),
            new("KeepHeap (= Recommended)", AllocatorPolicy.KeepHeap, null),
        };
        if (File.Exists(TcmallocPath)) rows.Add(new("LD_PRELOAD tcmalloc (reference)", AllocatorPolicy.None, TcmallocPath));
        if (only is not null)
        {
            rows = rows.Where(r => only.Contains(r.Preload is null ? r.Policy.ToString() : "tcmalloc", StringComparer.OrdinalIgnoreCase)).ToList();
            if (rows.Count == 0) throw new ArgumentException("--policies selected no row (names: None, TrimAndMmapThreshold, TopPad, KeepHeap, tcmalloc).");
        }

        log.WriteLine($"Allocator table: hand loop of the seed CNN, median ms/step, each cell a fresh process; {reps} repetition(s), " +
            $"policies in rotating order; threads {threads}, data {dataKind}. Recommended maps to KeepHeap in Lightning.Allocator.Apply.");
        var medians = new Dictionary<(int Row, int Bs), List<double>>();
        var p10s = new Dictionary<(int Row, int Bs), List<double>>();
        var faults = new Dictionary<(int Row, int Bs), List<double>>();
        var peaks = new Dictionary<(int Row, int Bs), List<double>>();
        for (int rep = 0; rep < reps; rep++)
        {
            foreach (int bs in batchSizes)
            {
                for (int k = 0; k < rows.Count; k++)
                {
                    int r = (k + rep) % rows.Count;
                    var (median, p10, p90, peak, faultsPerStep) = RunChild(rows[r], bs, steps, threads, dataKind);
                    Add(faults, (r, bs), faultsPerStep);
                    Add(medians, (r, bs), median);
                    Add(p10s, (r, bs), p10);
                    Add(peaks, (r, bs), peak);
                    log.WriteLine($"  rep {rep + 1} b{bs} {rows[r].Label}: median {Stats.Ms(median)} ms/step (p10 {Stats.Ms(p10)} p90 {Stats.Ms(p90)}), peak rss {Stats.F(peak, "0")} MB, {Stats.F(faultsPerStep, "0")} page faults/step");
                    log.Flush();
                }
            }
        }

        log.WriteLine();
        log.WriteLine("| policy | " + string.Join(" | ", batchSizes.Select(b => $"b{b} median ms/step (each rep)")) + " | " +
            string.Join(" | ", batchSizes.Select(b => $"b{b} p10 ms/step")) + " | " +
            string.Join(" | ", batchSizes.Select(b => $"b{b} peak RSS MB")) + " | " +
            string.Join(" | ", batchSizes.Select(b => $"b{b} page faults/step")) + " |");
        log.WriteLine("|---|" + string.Concat(Enumerable.Repeat("---|", batchSizes.Count * 4)));
        for (int r = 0; r < rows.Count; r++)
        {
            var cells = batchSizes.Select(b =>
                $"{Stats.Ms(Stats.Median(medians[(r, b)]))} ({string.Join(", ", medians[(r, b)].Select(Stats.Ms))})");
            var fast = batchSizes.Select(b => Stats.Ms(Stats.Median(p10s[(r, b)])));
            var mem = batchSizes.Select(b => Stats.F(Stats.Median(peaks[(r, b)]), "0"));
            var flt = batchSizes.Select(b => Stats.F(Stats.Median(faults[(r, b)]), "0"));
            log.WriteLine($"| {rows[r].Label} | {string.Join(" | ", cells)} | {string.Join(" | ", fast)} | {string.Join(" | ", mem)} | {string.Join(" | ", flt)} |");
        }
        log.WriteLine();
        foreach (int bs in batchSizes)
        {
            var inProcess = Enumerable.Range(0, rows.Count).Where(r => rows[r].Preload is null)
                .OrderBy(r => Stats.Median(medians[(r, bs)])).ToList();
            if (inProcess.Count < 2) continue;
            int best = inProcess[0];
            int none = rows.FindIndex(r => r.Policy == AllocatorPolicy.None && r.Preload is null);
            string versusDefault = none < 0 ? "" :
                $" ({Stats.F(Stats.Median(medians[(none, bs)]) / Stats.Median(medians[(best, bs)]), "0.00")}x faster than the glibc default)";
            log.WriteLine($"best in-process policy at b{bs}: {rows[best].Label} {Stats.Ms(Stats.Median(medians[(best, bs)]))} ms/step" +
                $"{versusDefault}; runner-up " +
                $"{rows[inProcess[1]].Label} {Stats.Ms(Stats.Median(medians[(inProcess[1], bs)]))}");
        }
        return 0;

        static void Add(Dictionary<(int, int), List<double>> d, (int, int) key, double v)
        {
            if (!d.TryGetValue(key, out var list)) d[key] = list = new List<double>();
            list.Add(v);
        }
    }

    private static (double Median, double P10, double P90, double PeakMb, double FaultsPerStep) RunChild(Row row, int bs, int? steps, int threads, string dataKind)
    {
        var psi = new ProcessStartInfo(Environment.ProcessPath ?? "dotnet") { RedirectStandardOutput = true, UseShellExecute = false };
        // Under `dotnet Lightning.Benchmarks.dll` the process is the dotnet host: pass the dll again.
        if (Path.GetFileNameWithoutExtension(Environment.ProcessPath ?? "dotnet") == "dotnet")
            psi.ArgumentList.Add(typeof(AllocatorTable).Assembly.Location);
        foreach (var a in new[] { "--hand-only", "--allocator", row.Policy.ToString(), "--bs", bs.ToString(CultureInfo.InvariantCulture),
                     "--threads", threads.ToString(CultureInfo.InvariantCulture), "--data", dataKind })
            psi.ArgumentList.Add(a);
        if (steps is int n)
        {
            psi.ArgumentList.Add("--steps");
            psi.ArgumentList.Add(n.ToString(CultureInfo.InvariantCulture));
        }
        psi.Environment.Remove("LD_PRELOAD");
        if (row.Preload is not null) psi.Environment["LD_PRELOAD"] = row.Preload;

        using var child = Process.Start(psi) ?? throw new InvalidOperationException("could not start the child process");
        string output = child.StandardOutput.ReadToEnd();
        child.WaitForExit();
        var line = output.Split('\n').FirstOrDefault(l => l.StartsWith("hand_only ", StringComparison.Ordinal));
        if (child.ExitCode != 0 || line is null)
            throw new InvalidOperationException($"child for {row.Label} b{bs} failed (exit {child.ExitCode}):\n{output}");
        var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1)
            .Select(f => f.Split('=')).ToDictionary(kv => kv[0], kv => kv[1]);
        double Get(string k) => double.Parse(fields[k], CultureInfo.InvariantCulture);
        return (Get("median_ms"), Get("p10_ms"), Get("p90_ms"), Get("peak_mb"), Get("faults_per_step"));
    }

    /// <summary>The child: the hand loop at each batch size, one line each.</summary>
    public static int Child(AllocatorPolicy policy, bool applied, List<int> batchSizes, int? steps, int threads, string dataKind, TextWriter log)
    {
        var data = dataKind == "fashion" ? BenchData.Fashion() : BenchData.Synthetic();
        foreach (int bs in batchSizes)
        {
            int n = steps ?? (bs <= 64 ? 100 : Math.Max(30, 10240 / bs));
            torch.manual_seed(1);
            var model = new SeedCnn();
            ((ILightningModule)model).RegisterComponentsOnce();
            var clock = new StepClock(n + 1);
            Loops.Hand(model, data, 0, Math.Max(10, n / 2), bs, clock);   // warm-up: JIT, oneDNN caches, the heap's growth
            long faultsBefore = MinorFaults();
            var run = Loops.Hand(model, data, 1000, n, bs, clock);
            double faultsPerStep = (MinorFaults() - faultsBefore) / (double)n;
            var (rss, peak) = Stats.MemoryMb();
            var ci = CultureInfo.InvariantCulture;
            log.WriteLine(string.Create(ci,
                $"hand_only policy={policy} applied={applied} threads={threads} bs={bs} steps={n} median_ms={run.MedianMs:0.000} " +
                $"p10_ms={Stats.Quantile(run.StepsMs, 0.1):0.000} p90_ms={Stats.Quantile(run.StepsMs, 0.9):0.000} rss_mb={rss:0} peak_mb={peak:0} faults_per_step={faultsPerStep:0}"));
            model.Dispose();
        }
        return 0;
    }

    /// <summary>Minor page faults of this process so far (field 10 of /proc/self/stat), or 0 off Linux.</summary>
    private static long MinorFaults()
    {
        try
        {
            var stat = File.ReadAllText("/proc/self/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return long.Parse(fields[7], CultureInfo.InvariantCulture);   // fields after "pid (comm) ": state is [0], minflt is [7]
        }
        catch (IOException) { return 0; }
    }
}
