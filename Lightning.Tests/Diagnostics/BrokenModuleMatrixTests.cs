using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;
using Xunit;

namespace Lightning.Tests.Diagnostics;

/// <summary>
/// "Every mistake in a module shows its own LTN diagnostic at the user's line and nothing else." Each case is a small
/// program (a module, and an app that fits it with two callbacks monitoring <c>val_acc</c>) with one mistake, compiled
/// with both generators, the compiler and every analyzer. A case asserts the exact diagnostics: the expected LTN IDs at
/// the spans marked <c>[| |]</c> (so at the user's line), no diagnostic in a generated file, no other LTN, and no compiler
/// warning or error beyond the ones the case names (the ones the user's own mistake implies; almost always none).
/// </summary>
public class BrokenModuleMatrixTests
{
    /// <summary>
    /// The module every case breaks: the rule tests' good module, logging <c>val_acc</c> in validation (what the app monitors).
    /// Anchors the cases replace are unique strings of it.
    /// </summary>
    private static readonly string Module = ModuleRuleTests.Good.Replace("Log(\"val_loss\"", "Log(\"val_acc\"", StringComparison.Ordinal);

    /// <summary>What the user's program does with the module: fit it with a checkpoint and early stopping on val_acc.</summary>
    private const string App = """

        public static class App
        {
            public static void Run(System.Collections.Generic.List<(Tensor X, Tensor Y)> data)
            {
                var trainer = new Trainer(new TrainerOptions
                {
                    MaxEpochs = 1,
                    Callbacks = new ICallback[]
                    {
                        new Lightning.Callbacks.ModelCheckpoint { Monitor = "val_acc", Mode = Lightning.MonitorMode.Max },
                        new Lightning.Callbacks.EarlyStopping { Monitor = "val_acc", Mode = Lightning.MonitorMode.Max },
                    },
                });
                var model = new Net();
                trainer.Fit(model, data, data);
            }
        }
        """;

    private static readonly string Good = Module + App;

    private const string TrainingBody = """
            {
                var loss = functional.mse_loss(forward(batch.X), batch.Y);
                Log("loss", loss);
                return loss;
            }
        """;

    private const string Optimizer = "    [ConfigureOptimizers]\n    Optimization ConfigureOptimizers() => torch.optim.Adam(parameters(), lr: LearningRate);\n";

    /// <summary>Code that builds the module from its hyperparameters (Create, HParams), for the hyperparameter cases.</summary>
    private const string UsesHparams = "\npublic static class FromHparams\n{\n    public static Net Make() => Net.Create(new Net.HParams { Hidden = 4 });\n}\n";

    private const string ManualModule = """
        [LightningModule(AutomaticOptimization = false)]
        public partial class Net() : Module<Tensor, Tensor>(nameof(Net))
        {
            private readonly TorchSharp.Modules.Linear fc = Linear(4, 1);
            public override Tensor forward(Tensor x) => fc.forward(x);

            [TrainingStep]
            Tensor TrainingStep((Tensor X, Tensor Y) batch, long batchIdx)
            {
                var optimizer = Optimizers();
                var loss = functional.mse_loss(forward(batch.X), batch.Y);
                ManualBackward(loss);
                optimizer.step();
                optimizer.zero_grad();
                return loss;
            }

            [ValidationStep]
            void ValidationStep((Tensor X, Tensor Y) batch, long batchIdx) => Log("val_acc", functional.mse_loss(forward(batch.X), batch.Y));

            [ConfigureOptimizers]
            Optimization ConfigureOptimizers() => torch.optim.SGD(parameters(), 0.1);
        }
        """;

    /// <summary>One broken program: its source with the expected spans marked, the LTN IDs expected there (in source order), and the compiler diagnostics it implies.</summary>
    public sealed record Case(string Name, string Source, string[] Expected, string[]? CompilerDiagnostics = null)
    {
        public override string ToString() => Name;
    }

    private static string Replace(string text, string anchor, string replacement)
    {
        Assert.True(text.Contains(anchor, StringComparison.Ordinal), "the case's anchor is not in the source: " + anchor);
        return text.Replace(anchor, replacement, StringComparison.Ordinal);
    }

    /// <summary>Every case, by name.</summary>
    public static readonly IReadOnlyList<Case> Cases = new Case[]
    {
        new("Good module", Good, Array.Empty<string>()),

        // ---- LTN0001: not partial. Log, Optimizers/ManualBackward and trainer.Fit keep compiling through stand-ins.
        new("Module not partial", Replace(Good, "public partial class Net(", "public class [|Net|]("), new[] { "LTN0001" }),
        new("Containing type not partial",
            Replace(Replace(Good, "[LightningModule]\npublic partial class Net(", "public static class [|Outer|]\n{\n[LightningModule]\npublic partial class Net("),
                "    Optimization ConfigureOptimizers() => torch.optim.Adam(parameters(), lr: LearningRate);\n}\n",
                "    Optimization ConfigureOptimizers() => torch.optim.Adam(parameters(), lr: LearningRate);\n}\n}\n").Replace("new Net()", "new Outer.Net()"),
            new[] { "LTN0001" }),
        new("Manual module not partial", Replace(ManualModule + App, "public partial class Net(", "public class [|Net|]("), new[] { "LTN0001" }),

        // ---- LTN0002: no training step.
        new("No [TrainingStep] attribute", Replace(Replace(Good, "    [TrainingStep]\n", ""), "public partial class Net(", "public partial class [|Net|]("), new[] { "LTN0002" }),
        new("No step names a batch type",
            Replace(Replace(Replace(Good, "    [TrainingStep]\n", ""), "    [ValidationStep]\n", ""), "Tensor TrainingStep(", "Tensor Step(")
                .Replace("public partial class Net(", "public partial class [|Net|]("),
            new[] { "LTN0002" }),

        // ---- LTN0003, LTN0004: the optimizer.
        new("No [ConfigureOptimizers] attribute", Replace(Replace(Good, "    [ConfigureOptimizers]\n", ""), "public partial class Net(", "public partial class [|Net|]("), new[] { "LTN0003" }),
        new("No optimizer method", Replace(Replace(Good, Optimizer, ""), "public partial class Net(", "public partial class [|Net|]("), new[] { "LTN0003" }),
        new("Optimizer returns int", Replace(Good, "Optimization ConfigureOptimizers() => torch.optim.Adam(parameters(), lr: LearningRate);", "[|int|] ConfigureOptimizers() => 1;"), new[] { "LTN0004" }),
        new("Optimizer takes a parameter", Replace(Good, "Optimization ConfigureOptimizers() => torch.optim.Adam(parameters(), lr: LearningRate);",
            "Optimization [|ConfigureOptimizers|](double lr) => torch.optim.Adam(parameters(), lr: lr);"), new[] { "LTN0004" }),
        new("Second optimizer method", Replace(Good, Optimizer, Optimizer + "\n    [ConfigureOptimizers]\n    Optimization [|Second|]() => torch.optim.SGD(parameters(), 0.1);\n"), new[] { "LTN0004" }),

        // ---- LTN0005: manual optimization calls under automatic optimization.
        new("backward() in the training step", Replace(Good, "        Log(\"loss\", loss);\n", "        Log(\"loss\", loss);\n        [|loss.backward()|];\n"), new[] { "LTN0005" }),

        // ---- LTN0006: step signatures.
        new("Training step returns float", Replace(Replace(Good, "    Tensor TrainingStep(", "    [|float|] TrainingStep("), "return loss;", "return 0f;"), new[] { "LTN0006" }),
        new("Training step with three parameters",
            Replace(Good, "Tensor TrainingStep((Tensor X, Tensor Y) batch, long batchIdx)", "Tensor [|TrainingStep|]((Tensor X, Tensor Y) batch, long batchIdx, int extra)"), new[] { "LTN0006" }),
        new("Training step with the batch split in three parameters",
            Replace(Replace(Good, "Tensor TrainingStep((Tensor X, Tensor Y) batch, long batchIdx)", "Tensor [|TrainingStep|](Tensor x, Tensor y, long batchIdx)"),
                "functional.mse_loss(forward(batch.X), batch.Y);\n        Log(\"loss\"", "functional.mse_loss(forward(x), y);\n        Log(\"loss\""), new[] { "LTN0006" }),
        new("Batch index of type string", Replace(Good, "Tensor TrainingStep((Tensor X, Tensor Y) batch, long batchIdx)", "Tensor TrainingStep((Tensor X, Tensor Y) batch, [|string|] batchIdx)"), new[] { "LTN0006" }),
        new("Validation batch of another type", Replace(Good, "void ValidationStep((Tensor X, Tensor Y) batch, long batchIdx) => Log(\"val_acc\", functional.mse_loss(forward(batch.X), batch.Y));",
            "void ValidationStep([|Tensor|] batch, long batchIdx) => Log(\"val_acc\", forward(batch).mean());"), new[] { "LTN0006" }),
        new("Training batch without tensors", Replace(Replace(Good, "Tensor TrainingStep((Tensor X, Tensor Y) batch, long batchIdx)", "Tensor TrainingStep([|int|] batch, long batchIdx)"),
            "functional.mse_loss(forward(batch.X), batch.Y);\n        Log(\"loss\"", "fc.weight!.sum();\n        Log(\"loss\""), new[] { "LTN0006" }),
        new("Static training step", Replace(Good, "    Tensor TrainingStep((Tensor X, Tensor Y) batch, long batchIdx)\n" + TrainingBody,
            "    static Tensor [|TrainingStep|]((Tensor X, Tensor Y) batch, long batchIdx) => batch.X.sum();\n"), new[] { "LTN0006" }),
        new("Second training step", Replace(Good, "    [ValidationStep]", "    [TrainingStep]\n    Tensor [|Again|]((Tensor X, Tensor Y) batch) => batch.X.sum();\n\n    [ValidationStep]"), new[] { "LTN0006" }),
        new("Predict step returning void", Replace(Good, "    [ValidationStep]", "    [PredictStep]\n    [|void|] PredictStep((Tensor X, Tensor Y) batch) { }\n\n    [ValidationStep]"), new[] { "LTN0006" }),

        // ---- int batch indexes are accepted (the generated loop passes checked((int)batchIdx)).
        new("int batchIdx in every step", Replace(Replace(Good, "Tensor TrainingStep((Tensor X, Tensor Y) batch, long batchIdx)", "Tensor TrainingStep((Tensor X, Tensor Y) batch, int batchIdx)"),
            "void ValidationStep((Tensor X, Tensor Y) batch, long batchIdx)", "void ValidationStep((Tensor X, Tensor Y) batch, int batchIdx)")
            .Replace("    [ValidationStep]", "    [TestStep]\n    void TestStep((Tensor X, Tensor Y) batch, int batchIdx) => Log(\"test_acc\", forward(batch.X).mean());\n\n"
                + "    [PredictStep]\n    Tensor PredictStep((Tensor X, Tensor Y) batch, int batchIdx) => forward(batch.X);\n\n    [ValidationStep]"),
            Array.Empty<string>()),

        // ---- LTN0007, LTN0008, LTN0009: hyperparameters. Create and HParams stay usable (Create throws until fixed).
        new("Unsavable hyperparameter (LTN0007's own example)",
            Replace(Good, "    private readonly TorchSharp", "    [Hyperparameter] public int[] [|Layers|] { get; init; } = [64, 128];\n    private readonly TorchSharp") + UsesHparams, new[] { "LTN0007" }),
        new("Hyperparameter without default", Replace(Good, "public double LearningRate { get; init; } = 1e-3;", "public double [|LearningRate|] { get; init; }") + UsesHparams, new[] { "LTN0008" }),
        new("String hyperparameter without default",
            Replace(Good, "    private readonly TorchSharp", "    [Hyperparameter] public string [|Name|] { get; init; }\n    private readonly TorchSharp"), new[] { "LTN0008" },
            new[] { "CS8618" }),   // the user's own non-nullable property without a value: the compiler's warning, on the user's line
        new("Non-constant default", Replace(Good, "public double LearningRate { get; init; } = 1e-3;", "public double LearningRate { get; init; } = [|System.Math.Sqrt(2)|];"), new[] { "LTN0008" }),
        new("Constructor hyperparameter without default", Replace(Good, "[Hyperparameter] int hidden = 8", "[Hyperparameter] int [|hidden|]").Replace("new Net()", "new Net(8)") + UsesHparams,
            new[] { "LTN0008" }),
        new("Get-only hyperparameter", Replace(Good, "public double LearningRate { get; init; } = 1e-3;", "public double [|LearningRate|] { get; } = 1e-3;") + UsesHparams, new[] { "LTN0009" }),
        new("Static hyperparameter", Replace(Good, "[Hyperparameter] public double LearningRate { get; init; } = 1e-3;", "[Hyperparameter] public static double [|LearningRate|] { get; set; } = 1e-3;") + UsesHparams,
            new[] { "LTN0009" }),
        new("[Hyperparameter] on a method parameter", Good + "\npublic static class Helpers\n{\n    public static int Twice([Hyperparameter] int [|x|]) => 2 * x;\n}\n", new[] { "LTN0009" }),

        // ---- LTN0010-LTN0013: Log and monitored metrics.
        new("Log key not constant", Replace(Good, "Log(\"loss\", loss);", "var name = \"lo\" + batchIdx;\n        Log([|name|], loss);"), new[] { "LTN0010" }),
        new("Log in the predict step", Replace(Good, "    [ValidationStep]",
            "    [PredictStep]\n    Tensor PredictStep((Tensor X, Tensor Y) batch)\n    {\n        [|Log(\"n\", 1.0)|];\n        return forward(batch.X);\n    }\n\n    [ValidationStep]"), new[] { "LTN0011" }),
        new("Host sync in the training step", Replace(Good, "Log(\"loss\", loss);", "System.Console.WriteLine([|loss.item<float>()|]);\n        Log(\"loss\", loss);"), new[] { "LTN0012" }),
        new("Monitored metric never logged", Replace(Good, "new Lightning.Callbacks.ModelCheckpoint { Monitor = \"val_acc\"", "new Lightning.Callbacks.ModelCheckpoint { Monitor = [|\"val_accuracy\"|]"), new[] { "LTN0013" }),

        // ---- LTN0014-LTN0017: callbacks and hooks.
        new("[Callback] class not partial", Good + "\n[Callback]\npublic class [|Printer|]\n{\n    void OnTrainEpochEnd(Trainer trainer) { }\n}\n", new[] { "LTN0014" }),
        new("Hook with a parameter no hook passes", Good + "\n[Callback]\npublic partial class Printer\n{\n    void [|OnFitStart|](string name) { }\n}\n", new[] { "LTN0015" }),
        new("Module hook with a wrong parameter", Replace(Good, Optimizer, Optimizer + "\n    void [|OnTrainEpochEnd|](long batchIdx) { }\n"), new[] { "LTN0015" }),
        new("Handler with Every and Once", Replace(Good, Optimizer, Optimizer + "\n    [[|Callback(TrainerEvent.EpochCompleted, Every = 2, Once = 3)|]]\n    void Report() { }\n"), new[] { "LTN0016" }),
        new("Handler in a plain class", Good + "\npublic class Plain\n{\n    [[|Callback(TrainerEvent.Started)|]]\n    void Handler() { }\n}\n", new[] { "LTN0016" }),
        new("Hook name typo", Replace(Good, Optimizer, Optimizer + "\n    void [|OnTrainEpochEnds|]() { }\n"), new[] { "LTN0017" }),

        // ---- LTN0018, LTN0019.
        new("Manual optimization with gradient clipping",
            Replace(Replace(ManualModule + App, "MaxEpochs = 1,", "MaxEpochs = 1,\n            GradientClipVal = 1.0,"), "var trainer = new Trainer(new TrainerOptions", "var options = new TrainerOptions")
                .Replace("        });\n        var model", "        };\n        var trainer = new Trainer(options);\n        var model").Replace("trainer.Fit(model, data, data);", "[|trainer.Fit(model, data, data)|];"),
            new[] { "LTN0018" }),
        new("Hyperparameter default outside its range", Replace(Good, "[Hyperparameter] int hidden = 8", "[Hyperparameter(Min = 16)] int hidden = [|8|]"), new[] { "LTN0019" }),

        // ---- LTN0020: not a concrete torch.nn.Module class.
        new("Module class not deriving from nn.Module",
            Replace(Replace(Good, "public partial class Net([Hyperparameter] int hidden = 8) : Module<Tensor, Tensor>(nameof(Net))",
                "public partial class [|Net|]([Hyperparameter] int hidden = 8)"), "    public override Tensor forward(Tensor x) => fc.forward(x);", "    Tensor forward(Tensor x) => fc.forward(x);")
                .Replace("torch.optim.Adam(parameters(), lr: LearningRate)", "torch.optim.Adam(fc.parameters(), lr: LearningRate)"),
            new[] { "LTN0020" }),
        new("Abstract module", Replace(Good, "public partial class Net(", "public abstract partial class [|Net|](").Replace("var model = new Net();", "Net model = null!;"), new[] { "LTN0020" }),
        new("Module nested in a generic type",
            Replace(Replace(Good, "[LightningModule]\npublic partial class Net(", "public static partial class Outer<T>\n{\n[LightningModule]\npublic partial class [|Net|]("),
                "    Optimization ConfigureOptimizers() => torch.optim.Adam(parameters(), lr: LearningRate);\n}\n",
                "    Optimization ConfigureOptimizers() => torch.optim.Adam(parameters(), lr: LearningRate);\n}\n}\n").Replace("new Net()", "new Outer<int>.Net()")
                .Replace("var trainer = new Trainer", "var unused = new Trainer").Replace("trainer.Fit(model, data, data);", "_ = model;"),
            new[] { "LTN0020" }),
        new("Generic module",
            Replace(Good, "public partial class Net([Hyperparameter] int hidden = 8) : Module<Tensor, Tensor>(nameof(Net))",
                "public partial class [|Net|]<T>([Hyperparameter] int hidden = 8) : Module<Tensor, Tensor>(\"Net\")").Replace("new Net()", "new Net<int>()"),
            new[] { "LTN0020" }),

        // ---- A broken module does not hide another module's diagnostics, and its own Log calls still count for LTN0013.
        new("Broken module beside a monitor typo",
            Replace(Good, "new Lightning.Callbacks.EarlyStopping { Monitor = \"val_acc\"", "new Lightning.Callbacks.EarlyStopping { Monitor = [|\"val_ac\"|]")
                + "\n[LightningModule]\npublic partial class [|Other|]() : Module<Tensor, Tensor>(nameof(Other))\n{\n    public override Tensor forward(Tensor x) => x;\n"
                + "    [TrainingStep] Tensor TrainingStep(Tensor batch) { Log(\"other_loss\", batch.sum()); return batch.sum(); }\n}\n",
            new[] { "LTN0013", "LTN0003" }),
        new("Non-partial module beside a monitor typo",
            Replace(Good, "new Lightning.Callbacks.EarlyStopping { Monitor = \"val_acc\"", "new Lightning.Callbacks.EarlyStopping { Monitor = [|\"val_ac\"|]")
                + "\n[LightningModule]\npublic class [|Other|]() : Module<Tensor, Tensor>(nameof(Other))\n{\n    public override Tensor forward(Tensor x) => x;\n"
                + "    [TrainingStep] Tensor TrainingStep(Tensor batch) { Log(\"other_loss\", batch.sum()); return batch.sum(); }\n"
                + "    [ConfigureOptimizers] Optimization ConfigureOptimizers() => torch.optim.Adam(parameters());\n}\n",
            new[] { "LTN0013", "LTN0001" }),

        // ---- The user's own declaration error makes csc skip the analyzers (LTN0013 here), never the generators' rules.
        new("Declaration error beside backward() and a monitor typo",
            Replace(Replace(Replace(Good, "        Log(\"loss\", loss);\n", "        Log(\"loss\", loss);\n        [|loss.backward()|];\n"),
                "    private readonly TorchSharp", "    private readonly [|Missing|] thing = null!;\n    private readonly TorchSharp"),
                "new Lightning.Callbacks.ModelCheckpoint { Monitor = \"val_acc\"", "new Lightning.Callbacks.ModelCheckpoint { Monitor = \"val_accuracy\""),
            new[] { "LTN0005" }, new[] { "CS0246" }),

        // ---- The user's own compile errors draw no LTN diagnostic on top.
        new("Hyperparameter of a type that does not exist", Replace(Good, "    private readonly TorchSharp", "    [Hyperparameter] public [|Missing|] Thing { get; init; } = null!;\n    private readonly TorchSharp"),
            Array.Empty<string>(), new[] { "CS0246" }),
    };

    public static TheoryData<string> CaseNames() => new(Cases.Select(c => c.Name));

    [Theory]
    [MemberData(nameof(CaseNames))]
    public async Task EachMistakeShowsItsOwnDiagnosticAndNothingElse(string name)
    {
        var c = Cases.Single(x => x.Name == name);
        var (source, spans) = Parse(AnalyzerHarness.Usings + c.Source);
        var diagnostics = await FullCompilation.DiagnosticsAsync(source);
        string Describe(IEnumerable<Diagnostic> ds) => string.Join("\n", ds.Select(d => "  " + d));

        Assert.False(diagnostics.Any(FullCompilation.InGeneratedFile), $"{name}: diagnostics in generated code:\n{Describe(diagnostics.Where(FullCompilation.InGeneratedFile))}");

        var ltn = diagnostics.Where(d => d.Id.StartsWith("LTN", StringComparison.Ordinal)).ToList();
        Assert.True(ltn.Select(d => d.Id).SequenceEqual(c.Expected), $"{name}: expected [{string.Join(", ", c.Expected)}], got:\n{Describe(ltn)}");
        var compiler = diagnostics.Where(d => !d.Id.StartsWith("LTN", StringComparison.Ordinal)).ToList();
        Assert.True(compiler.Select(d => d.Id).SequenceEqual(c.CompilerDiagnostics ?? Array.Empty<string>()),
            $"{name}: compiler diagnostics other than the user's own mistake implies:\n{Describe(compiler)}");
        // The markers are the LTN diagnostics' spans, or (when there are more) those of every diagnostic, in source order.
        var located = spans.Count == ltn.Count ? ltn : diagnostics.ToList();
        Assert.True(spans.Count == located.Count, $"{name}: {spans.Count} marked spans for {located.Count} diagnostics");
        foreach (var (d, span) in located.Zip(spans)) AssertAt(name, source, d, span);
    }

    private static void AssertAt(string name, string source, Diagnostic d, TextSpan expected)
    {
        var line = d.Location.GetLineSpan().StartLinePosition.Line;
        var expectedLine = source.Take(expected.Start).Count(ch => ch == '\n');
        Assert.True(expectedLine == line && expected == d.Location.SourceSpan,
            $"{name}: {d.Id} at line {line + 1} {d.Location.SourceSpan}, expected line {expectedLine + 1} {expected}");
    }

    [Fact]
    public void TheMatrixCoversEveryRule()
    {
        var covered = Cases.SelectMany(c => c.Expected).ToHashSet();
        var missing = Enumerable.Range(1, 20).Select(i => $"LTN{i:0000}").Where(id => !covered.Contains(id)).ToList();
        Assert.True(missing.Count == 0, "rules without a broken-module case: " + string.Join(", ", missing));
        Assert.True(Cases.Count >= 30, $"{Cases.Count} cases");
    }

    [Fact]
    public async Task SecondOptimizerMessageNamesOnlyItsProblem()
    {
        var c = Cases.Single(x => x.Name == "Second optimizer method");
        var diagnostics = await FullCompilation.DiagnosticsAsync(Parse(AnalyzerHarness.Usings + c.Source).Source);
        var message = diagnostics.Single(d => d.Id == "LTN0004").GetMessage(System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal("[ConfigureOptimizers] method 'Second' is a second [ConfigureOptimizers] method (a module has one optimizer under automatic optimization)", message);
    }

    [Fact]
    public void AnIntBatchIndexIsPassedChecked()
    {
        var c = Cases.Single(x => x.Name == "int batchIdx in every step");
        var (files, diagnostics) = Lightning.Tests.Generation.GeneratorHarness.Run(AnalyzerHarness.Usings + c.Source);
        Assert.True(diagnostics.IsEmpty, string.Join("\n", diagnostics));
        var generated = files.Single(f => f.HintName == "Net.Lightning.g.cs").Text;
        Assert.Contains("var loss = TrainingStep(batch, checked((int)batchIdx));", generated);
        Assert.Contains("ValidationStep(batch, checked((int)batchIdx));", generated);
        Assert.Contains("TestStep(batch, checked((int)batchIdx));", generated);
        Assert.Contains("var output = PredictStep(batch, checked((int)batchIdx));", generated);
    }

    /// <summary>The source without its markers, and the marked spans in order.</summary>
    private static (string Source, List<TextSpan> Spans) Parse(string markup)
    {
        var spans = new List<TextSpan>();
        var text = new System.Text.StringBuilder();
        int i = 0, open = -1;
        while (i < markup.Length)
        {
            if (string.CompareOrdinal(markup, i, "[|", 0, 2) == 0) { open = text.Length; i += 2; continue; }
            if (string.CompareOrdinal(markup, i, "|]", 0, 2) == 0) { spans.Add(new TextSpan(open, text.Length - open)); i += 2; continue; }
            text.Append(markup[i++]);
        }
        return (text.ToString(), spans);
    }
}
