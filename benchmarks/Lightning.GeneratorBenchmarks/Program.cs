using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using Lightning;
using Lightning.Generators.Diagnostics;
using Lightning.Generators.Kernel;
using Lightning.Generators.Modules;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;

// Measures, on one compilation of N Lightning modules (default 200, one file each):
//  - compile: the C# compiler's own diagnostics pass (the baseline the other numbers are compared with);
//  - generator, full run: a fresh driver over the whole compilation;
//  - generator, one edit: a keystroke-like edit in one module's method body, then the driver again
//    (and how many modules were re-emitted: the caching should make it zero);
//  - analyzers: Lightning's four analyzers over the compilation (with the generated code), with Roslyn's
//    own per-analyzer execution times (the declaration rules are checked by the generator, in its full run).
// Usage: dotnet Lightning.GeneratorBenchmarks.dll [--modules 200] [--reps 7]
int modules = 200, reps = 7;
for (int i = 0; i < args.Length; i++)
{
    if (args[i] == "--modules" && i + 1 < args.Length) modules = int.Parse(args[++i], CultureInfo.InvariantCulture);
    else if (args[i] == "--reps" && i + 1 < args.Length) reps = int.Parse(args[++i], CultureInfo.InvariantCulture);
    else { Console.Error.WriteLine($"Unknown option '{args[i]}'. Options: --modules N, --reps N."); return 2; }
}

var parse = CSharpParseOptions.Default;
var references = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator)
    .Where(p => Path.GetFileName(p).StartsWith("System.", StringComparison.Ordinal) || Path.GetFileName(p) is "mscorlib.dll" or "netstandard.dll")
    .Append(typeof(TorchSharp.torch).Assembly.Location)
    .Append(typeof(LightningModuleAttribute).Assembly.Location)
    .Append(typeof(Trainer).Assembly.Location)
    .Distinct().Select(p => (MetadataReference)MetadataReference.CreateFromFile(p)).ToList();
var trees = Enumerable.Range(0, modules).Select(i => CSharpSyntaxTree.ParseText(ModuleSource(i), parse, path: $"Module{i}.cs")).ToList();
var compilation = CSharpCompilation.Create("Bench", trees, references,
    new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));

GeneratorDriver NewDriver() => CSharpGeneratorDriver.Create(new[] { new LightningModuleGenerator().AsSourceGenerator(), new Lightning.Generators.Callbacks.CallbackGenerator().AsSourceGenerator() }, parseOptions: parse,
    driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));

Console.WriteLine($"Lightning generator and analyzers on {modules} modules ({reps} repetitions, medians)");

// Warm up Roslyn and the generator once.
_ = compilation.GetDiagnostics();
NewDriver().RunGeneratorsAndUpdateCompilation(compilation, out var withGenerated, out var generatorDiagnostics);
var errors = generatorDiagnostics.Concat(withGenerated.GetDiagnostics()).Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
if (errors.Count > 0) { Console.Error.WriteLine("the benchmark's modules do not compile:\n" + string.Join("\n", errors.Take(5))); return 1; }

var compile = Median(reps, () => _ = compilation.RemoveAllSyntaxTrees().AddSyntaxTrees(trees).GetDiagnostics());
// A fresh compilation each time, so no binding is reused from an earlier run (as after an edit).
CSharpCompilation Fresh() => compilation.RemoveAllSyntaxTrees().AddSyntaxTrees(trees);
var full = Median(reps, () => NewDriver().RunGenerators(Fresh()));

// One keystroke-like edit: change a number inside module 0's training step, re-run an existing driver.
var warmDriver = NewDriver().RunGenerators(compilation);
var edits = new List<double>();
int reEmitted = 0, unchangedModels = 0;
for (int r = 0; r < reps; r++)
{
    var tree = trees[0];
    var text = tree.GetText();
    int at = text.ToString().IndexOf("* 1.0", StringComparison.Ordinal);
    var edited = tree.WithChangedText(text.Replace(at, 5, "* " + (1.0 + 0.001 * (r + 1)).ToString("0.000", CultureInfo.InvariantCulture)));
    var next = compilation.ReplaceSyntaxTree(tree, edited);
    var sw = Stopwatch.StartNew();
    var driver = warmDriver.RunGenerators(next);
    edits.Add(sw.Elapsed.TotalMilliseconds);
    var result = driver.GetRunResult().Results[0];
    reEmitted = driver.GetRunResult().Results.SelectMany(r => r.TrackedOutputSteps).SelectMany(kv => kv.Value).SelectMany(s => s.Outputs).Count(o => o.Reason is IncrementalStepRunReason.New or IncrementalStepRunReason.Modified);
    unchangedModels = result.TrackedSteps[TrackingNamesForBench.ModuleSpec].SelectMany(s => s.Outputs).Count(o => o.Reason == IncrementalStepRunReason.Unchanged);
}
edits.Sort();
double edit = edits[edits.Count / 2];

var analyzers = ImmutableArray.Create<DiagnosticAnalyzer>(new StepBodyAnalyzer(), new MonitoredMetricAnalyzer(), new HookNameAnalyzer(), new ManualOptimizationOptionsAnalyzer());
var analyzerTimes = new Dictionary<string, List<double>>();
var analyze = Median(reps, () =>
{
    var fresh = withGenerated.RemoveAllSyntaxTrees().AddSyntaxTrees(withGenerated.SyntaxTrees);
    var cwa = fresh.WithAnalyzers(analyzers, new CompilationWithAnalyzersOptions(new AnalyzerOptions(ImmutableArray<AdditionalText>.Empty), null, concurrentAnalysis: true, logAnalyzerExecutionTime: true));
    var diagnostics = cwa.GetAnalyzerDiagnosticsAsync().GetAwaiter().GetResult();
    if (!diagnostics.IsEmpty) throw new InvalidOperationException("unexpected diagnostics: " + diagnostics[0]);
    foreach (var a in analyzers)
    {
        var info = cwa.GetAnalyzerTelemetryInfoAsync(a, default).GetAwaiter().GetResult();
        if (!analyzerTimes.TryGetValue(a.GetType().Name, out var list)) analyzerTimes[a.GetType().Name] = list = new List<double>();
        list.Add(info.ExecutionTime.TotalMilliseconds);
    }
});

string F(double ms) => ms.ToString("0.0", CultureInfo.InvariantCulture);
Console.WriteLine($"compile (C# diagnostics, baseline)   {F(compile)} ms");
Console.WriteLine($"generator, full run                  {F(full)} ms   ({F(full / compile * 100)}% of compile)");
Console.WriteLine($"generator, one edit in one module    {F(edit)} ms   models unchanged {unchangedModels}/{modules}, files re-emitted {reEmitted}");
Console.WriteLine($"analyzers, whole compilation (wall)  {F(analyze)} ms");
foreach (var (name, list) in analyzerTimes)
{
    list.Sort();
    Console.WriteLine($"  {name,-20} {F(list[list.Count / 2])} ms execution time");
}
return 0;

static double Median(int reps, Action action)
{
    var times = new List<double>();
    for (int r = 0; r < reps; r++)
    {
        var sw = Stopwatch.StartNew();
        action();
        times.Add(sw.Elapsed.TotalMilliseconds);
    }
    times.Sort();
    return times[times.Count / 2];
}

static string ModuleSource(int i) => $$"""
    using Lightning;
    using TorchSharp;
    using static TorchSharp.torch;
    using static TorchSharp.torch.nn;

    namespace Bench.M{{i}};

    public sealed record Batch{{i}}(Tensor X, Tensor Y);

    [LightningModule]
    public partial class Module{{i}}([Hyperparameter(Description = "hidden units")] int hidden = {{8 + i % 8}}) : Module<Tensor, Tensor>(nameof(Module{{i}}))
    {
        [Hyperparameter] public double LearningRate { get; init; } = 1e-3;
        [Hyperparameter] public string Optimizer { get; init; } = "adam";
        private readonly TorchSharp.Modules.Linear fc1 = Linear(4, hidden);
        private readonly TorchSharp.Modules.Linear fc2 = Linear(hidden, 2);

        public override Tensor forward(Tensor x) => fc2.forward(functional.relu(fc1.forward(x)));

        [TrainingStep]
        Tensor TrainingStep(Batch{{i}} batch, long batchIdx)
        {
            var loss = functional.cross_entropy(forward(batch.X), batch.Y) * 1.0;
            Log("loss", loss, progBar: true);
            return loss;
        }

        [ValidationStep]
        void ValidationStep(Batch{{i}} batch, long batchIdx)
        {
            var logits = forward(batch.X);
            Log("val_loss", functional.cross_entropy(logits, batch.Y));
            Log("val_acc", logits.argmax(1).eq(batch.Y).to_type(ScalarType.Float32).mean(), progBar: true);
        }

        [ConfigureOptimizers]
        Optimization ConfigureOptimizers() => torch.optim.Adam(parameters(), lr: LearningRate);

        void OnTrainEpochEnd(Trainer trainer) { }
    }

    [Callback]
    public partial class Report{{i}}
    {
        public int Epochs;
        void OnTrainEpochEnd(Trainer trainer, Module{{i}} model) => Epochs++;

        [Callback(TrainerEvent.IterationCompleted, Every = 100)]
        void Every100(Trainer trainer) { }
    }
    """;

/// <summary>The generator's tracking name for module specs (mirrors Lightning.Generators.Kernel.TrackingNames, which is internal).</summary>
internal static class TrackingNamesForBench
{
    public const string ModuleSpec = "ModuleSpec";
}
