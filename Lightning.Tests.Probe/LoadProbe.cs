using System;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using Lightning.Checkpoints;
using TorchSharp;

namespace Lightning.Tests.Probe;

/// <summary>
/// The <c>load</c> mode: for each checkpoint path read from stdin, (a) <c>FuzzNet.LoadFromCheckpoint(path)</c> and
/// (b) a fresh FuzzNet resumed with <c>Fit(..., ckptPath: path)</c> to epoch 3 with the callbacks whose states the file
/// carries. Each outcome is <c>ok</c>, <c>clean</c> (a <see cref="CheckpointException"/>, or another
/// <see cref="LightningException"/>, whose message names the file) or <c>unhandled</c> (any other exception, or one that
/// does not name the file). The variant's result is the worse of the two, with the peak RSS of the process while it ran.
/// </summary>
public static class LoadProbe
{
    /// <summary>The address space this process may add after its warm-up (MiB; env LIGHTNING_PROBE_HEADROOM_MB).</summary>
    private const long DefaultHeadroomMb = 4096;

    public static int Run(TextReader input, TextWriter output)
    {
        // The resumed fits write checkpoints here. A child that aborts cannot clean up, so the parent may give a folder
        // of its own to put it in (env LIGHTNING_PROBE_SCRATCH) and delete that.
        var root = Environment.GetEnvironmentVariable("LIGHTNING_PROBE_SCRATCH");
        var scratch = string.IsNullOrEmpty(root)
            ? Directory.CreateTempSubdirectory("lightning-probe-").FullName
            : Directory.CreateDirectory(Path.Combine(root, "probe-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture))).FullName;
        try
        {
            var (train, val) = FuzzRun.Loaders();
            WarmUp(scratch, train, val);
            LimitAddressSpace(output);
            output.WriteLine("READY");
            output.Flush();
            string? line;
            while ((line = input.ReadLine()) is not null)
            {
                var path = line.Trim();
                if (path.Length == 0) continue;
                output.WriteLine("START " + path);
                output.Flush();
                ResetPeakRss();
                var load = Attempt(path, () =>
                {
                    var model = FuzzNet.LoadFromCheckpoint(path);
                    model.Dispose();
                });
                var fit = Attempt(path, () =>
                {
                    Seed.Everything(1);
                    using var model = new FuzzNet();
                    var run = Path.Combine(scratch, "run");
                    new Trainer(FuzzRun.Options(run, Path.Combine(run, "ckpt"), maxEpochs: 3)).Fit(model, train, val, ckptPath: path);
                });
                long peak = PeakRssKb();
                output.WriteLine($"PART load {load.Status} {load.Type} {load.Message}");
                output.WriteLine($"PART fit {fit.Status} {fit.Type} {fit.Message}");
                var worst = Rank(fit.Status) > Rank(load.Status) ? (Part: "fit", Outcome: fit) : (Part: "load", Outcome: load);
                output.WriteLine($"RESULT {path} {worst.Outcome.Status} {worst.Outcome.Type} {worst.Part}: {worst.Outcome.Message} {peak}");
                output.Flush();
                Clear(scratch);
            }
            return 0;
        }
        finally
        {
            try { Directory.Delete(scratch, recursive: true); } catch (IOException) { }
        }
    }

    private readonly record struct Outcome(string Status, string Type, string Message);

    private static int Rank(string status) => status switch { "ok" => 0, "clean" => 1, _ => 2 };

    private static Outcome Attempt(string path, Action action)
    {
        torch.set_default_dtype(torch.ScalarType.Float32);
        using var scope = torch.NewDisposeScope();
        try
        {
            action();
            return new Outcome("ok", "-", "-");
        }
        catch (Exception e)
        {
            bool namesFile = e.Message.Contains(path, StringComparison.Ordinal);
            bool clean = namesFile && (e is CheckpointException || e is LightningException);
            return new Outcome(clean ? "clean" : "unhandled", e.GetType().FullName ?? e.GetType().Name, OneLine(e.Message));
        }
    }

    private static string OneLine(string message)
    {
        // libtorch's errors carry their C++ stack after "Exception raised from": the first line says what went wrong.
        int native = message.IndexOf("Exception raised from", StringComparison.Ordinal);
        if (native > 0) message = message[..native];
        var s = string.Join(' ', message.Split(new[] { '\r', '\n', '\t' }, StringSplitOptions.RemoveEmptyEntries)).Trim();
        if (s.Length == 0) s = "(no message)";
        return s.Length <= 400 ? s : s[..400] + "…";
    }

    /// <summary>One fit without a checkpoint, so that the first variant does not pay for JIT and library loading.</summary>
    private static void WarmUp(string scratch, Lightning.Data.TensorDataLoader train, Lightning.Data.TensorDataLoader val)
    {
        using (var scope = torch.NewDisposeScope())
        {
            Seed.Everything(1);
            using var model = new FuzzNet();
            var run = Path.Combine(scratch, "run");
            new Trainer(FuzzRun.Options(run, Path.Combine(run, "ckpt"), maxEpochs: 1)).Fit(model, train, val);
        }
        Clear(scratch);
    }

    private static void Clear(string scratch)
    {
        foreach (var d in Directory.GetDirectories(scratch)) Directory.Delete(d, recursive: true);
        foreach (var f in Directory.GetFiles(scratch)) File.Delete(f);
    }

    // ------------------------------------------------------------------ memory

    /// <summary>Resets the kernel's peak resident set size (VmHWM) of this process to its current size.</summary>
    private static void ResetPeakRss()
    {
        try { File.WriteAllText("/proc/self/clear_refs", "5"); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }

    private static long PeakRssKb() => StatusKb("VmHWM:");

    private static long StatusKb(string field)
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
            if (line.StartsWith(field, StringComparison.Ordinal))
                return long.Parse(line[field.Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
        return -1;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct RLimit
    {
        public ulong Current;
        public ulong Maximum;
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int getrlimit(int resource, out RLimit limit);

    [DllImport("libc", SetLastError = true)]
    private static extern int setrlimit(int resource, ref RLimit limit);

    private const int RlimitAs = 9;

    /// <summary>
    /// A safety net for the machine, not a measurement: after the warm-up, this process may map at most a few GiB more,
    /// so a variant that asks for a huge tensor (e.g. a layer of 10^9 units) fails to allocate (an exception, reported
    /// as unhandled) instead of touching tens of GB and pulling the machine into the OOM killer.
    /// </summary>
    private static void LimitAddressSpace(TextWriter output)
    {
        long headroomMb = long.TryParse(Environment.GetEnvironmentVariable("LIGHTNING_PROBE_HEADROOM_MB"), NumberStyles.None, CultureInfo.InvariantCulture, out var mb)
            ? mb : DefaultHeadroomMb;
        if (headroomMb == 0 || !OperatingSystem.IsLinux()) return;
        long vmKb = StatusKb("VmSize:");
        if (vmKb <= 0 || getrlimit(RlimitAs, out var limit) != 0) return;
        var wanted = (ulong)(vmKb * 1024 + headroomMb * 1024 * 1024);
        if (wanted >= limit.Current) return;
        limit.Current = wanted;
        if (setrlimit(RlimitAs, ref limit) == 0)
            output.WriteLine($"address space limited to {wanted / (1024 * 1024)} MiB ({vmKb / 1024} MiB mapped after warm-up + {headroomMb} MiB)");
    }
}
