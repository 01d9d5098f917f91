using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using Lightning;
using Lightning.Benchmarks;
using TorchSharp;

// The generated trainer against a hand-written TorchSharp loop: the same model, seed and batches, alternating
// in one process; prints median ms/step of each and the ratio trainer/hand. See BENCHMARKS.md.
//
// dotnet benchmarks/Lightning.Benchmarks/bin/Release/net10.0/Lightning.Benchmarks.dll
//   [--bs 64 256] [--rounds 5] [--steps N] [--mlp-steps 500] [--no-mlp] [--no-cnn] [--control] [--overhead] [--profiler] [--warmup N]
//   [--allocator Recommended|None|TrimAndMmapThreshold|TopPad|KeepHeap] [--threads 2] [--data synthetic|fashion]
//   [--allocator-table [--table-reps 3] [--table-steps N] [--policies TopPad,KeepHeap]] [--memory [--steps 2000]] [--loader [--bs 64 256]]
const string Usage =
    "Options: --bs B [B ...] (default 64 256), --rounds R (5), --steps N (per run; default 100 at batch <= 64, else 10240/B, at least 30), " +
    "--mlp-steps N (500), --no-mlp, --no-cnn, --control (adds a second hand loop each round: the A/A noise floor), --overhead (breaks the trainer's per-step cost down on the tiny MLP), --profiler (the trainer with TrainerOptions.Profiler = Simple against it off, alternating; goal on/off <= 1.03), --warmup N (steps per side before measuring; default steps/5, at least 10), " +
    "--allocator Recommended|None|TrimAndMmapThreshold|TopPad|KeepHeap (Recommended), --threads T (2), --data synthetic|fashion (synthetic), " +
    "--allocator-table (hand loop per policy, each in a fresh process), --table-reps N (3), --table-steps N, --policies P,P,... (table rows; names: None, TrimAndMmapThreshold, TopPad, KeepHeap, tcmalloc), " +
    "--memory (RSS after 100 and after --steps N (2000) training steps of the trainer), --loader (TensorDataLoader samples/s against the models' consumption).";

var batchSizes = new List<int>();
int rounds = 5, threads = 2, mlpSteps = 500, tableReps = 3;
int? steps = null, warmup = null, tableSteps = null;
bool runMlp = true, runCnn = true, table = false, handOnly = false, control = false, overhead = false, memory = false, loader = false, profiler = false;
var policy = AllocatorPolicy.Recommended;
string dataKind = "synthetic";
List<string>? policies = null;

try
{
    for (int i = 0; i < args.Length; i++)
    {
        switch (args[i])
        {
            case "--bs":
                int before = batchSizes.Count;
                while (i + 1 < args.Length && !args[i + 1].StartsWith("--", StringComparison.Ordinal)) batchSizes.Add(Positive(args[++i], "--bs"));
                if (batchSizes.Count == before) throw new ArgumentException("--bs needs one or more batch sizes.");
                break;
            case "--rounds": rounds = Positive(Next(ref i), "--rounds"); break;
            case "--steps": steps = Positive(Next(ref i), "--steps"); break;
            case "--mlp-steps": mlpSteps = Positive(Next(ref i), "--mlp-steps"); break;
            case "--warmup": warmup = Positive(Next(ref i), "--warmup"); break;
            case "--threads": threads = Positive(Next(ref i), "--threads"); break;
            case "--no-mlp": runMlp = false; break;
            case "--no-cnn": runCnn = false; break;
            case "--control": control = true; break;
            case "--overhead": overhead = true; break;
            case "--profiler": profiler = true; break;
            case "--data":
                dataKind = Next(ref i);
                if (dataKind is not ("synthetic" or "fashion")) throw new ArgumentException("--data takes synthetic or fashion.");
                break;
            case "--allocator":
                var text = Next(ref i);
                if (!Enum.TryParse(text, ignoreCase: true, out policy) || !Enum.IsDefined(policy) || int.TryParse(text, out _))
                    throw new ArgumentException($"--allocator '{text}': expected one of {string.Join(", ", Enum.GetNames<AllocatorPolicy>())}.");
                break;
            case "--allocator-table": table = true; break;
            case "--table-reps": tableReps = Positive(Next(ref i), "--table-reps"); break;
            case "--policies": policies = Next(ref i).Split(',', StringSplitOptions.RemoveEmptyEntries).ToList(); break;
            case "--table-steps": tableSteps = Positive(Next(ref i), "--table-steps"); break;
            case "--hand-only": handOnly = true; break;   // internal: one child of --allocator-table
            case "--memory": memory = true; break;
            case "--loader": loader = true; break;
            default: throw new ArgumentException($"Unknown option '{args[i]}'.");
        }
    }
}
catch (ArgumentException e)
{
    Console.Error.WriteLine(e.Message);
    Console.Error.WriteLine(Usage);
    return 2;
}
if (batchSizes.Count == 0) batchSizes.AddRange([64, 256]);
int StepsFor(int bs) => steps ?? (bs <= 64 ? 100 : Math.Max(30, 10240 / bs));

if (table)
{
    try { return AllocatorTable.Run(batchSizes, tableReps, tableSteps ?? steps, threads, dataKind, policies, Console.Out); }
    catch (ArgumentException e) { Console.Error.WriteLine(e.Message); return 2; }
}

// glibc's settings cannot be undone, so both loops run under the one policy applied here, before any tensor
// exists; the trainer's own Allocator.Apply at its first Fit is then a no-op (same policy, already applied).
bool applied = Allocator.Apply(policy);
torch.set_num_threads(threads);

if (handOnly)
    return AllocatorTable.Child(policy, applied, batchSizes, steps, threads, dataKind, Console.Out);

Console.WriteLine($"Lightning.Benchmarks: allocator {policy}{(policy == AllocatorPolicy.Recommended ? " (= KeepHeap)" : "")} " +
    $"(mallopt applied: {(applied ? "yes" : "no")}), threads {torch.get_num_threads()}, rounds {rounds}, " +
    $"{Environment.ProcessorCount} cpus, TorchSharp {typeof(torch).Assembly.GetName().Version}, .NET {Environment.Version}");
var data = dataKind == "fashion" ? BenchData.Fashion() : BenchData.Synthetic();
Console.WriteLine($"data: {data.Description}");
var options = new TrainerOptions
{
    EnableProgressBar = false,
    EnableModelSummary = false,
    // As the hand loop: no checkpoint files and no log files (each Fit would write a version folder).
    EnableCheckpointing = false,
    Loggers = Array.Empty<Lightning.Loggers.ILightningLogger>(),
    NumSanityValSteps = 0,
    Threads = threads,
    AllocatorPolicy = policy,
};

if (memory) return MemoryBench.Run(data, options, steps ?? 2000, Console.Out);
if (loader) return LoaderBench.Run(data, options, batchSizes, Console.Out);

if (overhead)
{
    Overhead.Run(data, mlpSteps, rounds, options, Console.Out);
    return 0;
}

if (profiler)
{
    if (runCnn)
        foreach (int bs in batchSizes)
            ProfilerBench.Run($"cnn_b{bs}", () => new SeedCnn(), data, bs, StepsFor(bs), rounds, warmup ?? Math.Max(10, StepsFor(bs) / 5), options, control, Console.Out);
    if (runMlp)
        ProfilerBench.Run("mlp_b64", () => new TinyMlp(), data, 64, mlpSteps, rounds, warmup ?? Math.Max(10, mlpSteps / 5), options, control, Console.Out);
    return 0;
}

var results = new List<Comparison>();
if (runCnn)
{
    foreach (int bs in batchSizes)
    {
        int n = StepsFor(bs);
        var c = new Comparison($"cnn_b{bs}", () => new SeedCnn(), bs, n, rounds, warmup ?? Math.Max(10, n / 5), data, options, control);
        c.Run(Console.Out);
        c.Report(Console.Out);
        results.Add(c);
    }
}
if (runMlp)
{
    var c = new Comparison("mlp_b64", () => new TinyMlp(), 64, mlpSteps, rounds, warmup ?? Math.Max(10, mlpSteps / 5), data, options, control);
    c.Run(Console.Out);
    c.Report(Console.Out);
    results.Add(c);
}

Console.WriteLine();
Console.WriteLine("Summary (median ms/step over all rounds; goal for the CNN: ratio <= 1.02):");
foreach (var c in results)
{
    string verdict = c.Name.StartsWith("cnn", StringComparison.Ordinal) ? (c.Ratio <= 1.02 ? "  meets <= 1.02" : "  ABOVE 1.02") : "";
    Console.WriteLine($"{c.Name} hand {Stats.Ms(c.HandMedianMs)} ms/step trainer {Stats.Ms(c.TrainerMedianMs)} ms/step ratio {Stats.F(c.Ratio, "0.000")}" +
        $" (trainer - hand {Stats.F((c.TrainerMedianMs - c.HandMedianMs) * 1000, "0")} us/step; Fit overhead {Stats.Ms(c.TrainerFixedMs - c.HandFixedMs)} ms per Fit)" +
        (control ? $" control hand2/hand {Stats.F(c.ControlMedianMs / c.HandMedianMs, "0.000")}" : "") + verdict);
}
return 0;

string Next(ref int i) => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.");

static int Positive(string text, string option) =>
    int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n > 0
        ? n : throw new ArgumentException($"{option} takes positive whole numbers, got '{text}'.");
