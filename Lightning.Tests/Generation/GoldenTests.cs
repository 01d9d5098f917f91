using System;
using System.IO;
using System.Linq;
using Xunit;

namespace Lightning.Tests.Generation;

/// <summary>
/// The generated code of typical module shapes, compared with golden files in Golden/. On a mismatch the test
/// writes <c>Name.received.txt</c> beside the golden file and fails; to accept the new output, set
/// LIGHTNING_ACCEPT_GOLDEN=1 and run the tests again (then review the diff).
/// </summary>
public class GoldenTests
{
    private const string Usings = """
        using Lightning;
        using TorchSharp;
        using static TorchSharp.torch;
        using static TorchSharp.torch.nn;
        """;

    [Fact]
    public void TupleBatchWithValidation() => Verify(nameof(TupleBatchWithValidation), Usings + """

        namespace Samples;

        [LightningModule]
        public partial class Classifier([Hyperparameter(Description = "hidden units")] int hidden = 32)
            : Module<Tensor, Tensor>(nameof(Classifier))
        {
            [Hyperparameter] public double LearningRate { get; init; } = 3e-4;
            [Hyperparameter] public string Optimizer { get; init; } = "adam";

            private readonly TorchSharp.Modules.Linear fc1 = Linear(4, hidden);
            private readonly TorchSharp.Modules.Linear fc2 = Linear(hidden, 3);

            public override Tensor forward(Tensor x) => fc2.forward(functional.relu(fc1.forward(x)));

            [TrainingStep]
            Tensor TrainingStep((Tensor X, Tensor Y) batch, long batchIdx)
            {
                var loss = functional.cross_entropy(forward(batch.X), batch.Y);
                Log("loss", loss, progBar: true);
                return loss;
            }

            [ValidationStep]
            void ValidationStep((Tensor X, Tensor Y) batch, long batchIdx) =>
                Log("val_loss", functional.cross_entropy(forward(batch.X), batch.Y));

            [ConfigureOptimizers]
            Optimization ConfigureOptimizers() => torch.optim.Adam(parameters(), lr: LearningRate);
        }
        """);

    [Fact]
    public void HyperparameterRanges() => Verify(nameof(HyperparameterRanges), Usings + """

        namespace Samples;

        [LightningModule]
        public partial class Ranged(
            [Hyperparameter(Description = "channels", Min = 1, Max = 4096)] int filters = 64,
            [Hyperparameter(Min = 0)] long seed = 7)
            : Module<Tensor, Tensor>(nameof(Ranged))
        {
            [Hyperparameter(Description = "learning rate", Min = 0)] public double Lr { get; init; } = 1e-3;
            [Hyperparameter(Min = 0, Max = 1)] public float Dropout { get; init; } = 0.1f;
            [Hyperparameter(Max = 0.99)] public double Momentum { get; init; } = 0.9;
            [Hyperparameter(Choices = new[] { "adam", "adamw", "sgd" })] public string Optimizer { get; init; } = "adam";
            [Hyperparameter] public bool Shuffle { get; init; } = true;

            private readonly TorchSharp.Modules.Linear fc = Linear(4, filters);

            public override Tensor forward(Tensor x) => fc.forward(x);

            [TrainingStep]
            Tensor TrainingStep((Tensor X, Tensor Y) batch, long batchIdx) => functional.mse_loss(forward(batch.X), batch.Y);

            [ConfigureOptimizers]
            Optimization ConfigureOptimizers() => torch.optim.Adam(parameters(), lr: Lr);
        }
        """);

    [Fact]
    public void RecordBatchWithoutValidation() => Verify(nameof(RecordBatchWithoutValidation), Usings + """

        namespace Samples.Regression;

        public sealed record Sample(Tensor Features, Tensor Target, string Source);

        public enum Mode { Fast, Careful }

        [LightningModule]
        public sealed partial class Regressor : Module<Tensor, Tensor>
        {
            [Hyperparameter] public float Lr { get; init; } = 0.01f;
            [Hyperparameter] public long Seed { get; init; } = 7L;
            [Hyperparameter] public bool Shuffle { get; init; } = true;
            [Hyperparameter] public Mode Mode { get; init; } = Mode.Careful;

            private readonly TorchSharp.Modules.Linear fc = Linear(3, 1);

            public Regressor() : base(nameof(Regressor)) => RegisterComponents();

            public override Tensor forward(Tensor x) => fc.forward(x);

            [TrainingStep]
            Tensor Step(Sample batch)
            {
                var loss = functional.mse_loss(forward(batch.Features), batch.Target);
                Log("train_mse", loss);
                return loss;
            }

            [ConfigureOptimizers]
            torch.optim.Optimizer Optimizers() => torch.optim.SGD(parameters(), learningRate: Lr);
        }
        """);

    [Fact]
    public void ArrayBatchNestedWithTestAndPredict() => Verify(nameof(ArrayBatchNestedWithTestAndPredict), Usings + """

        namespace Samples;

        public static partial class Outer
        {
            [LightningModule]
            public partial class Encoder : Module<Tensor, Tensor>
            {
                private readonly TorchSharp.Modules.Linear fc = Linear(2, 2);

                public Encoder() : base(nameof(Encoder)) => RegisterComponents();

                public override Tensor forward(Tensor x) => fc.forward(x);

                [TrainingStep]
                Tensor TrainingStep(Tensor[] batch, long batchIdx) => functional.mse_loss(forward(batch[0]), batch[1]);

                [TestStep]
                void TestStep(Tensor[] batch, long batchIdx)
                {
                    const string key = "test_mse";
                    Log(key, functional.mse_loss(forward(batch[0]), batch[1]));
                }

                [PredictStep]
                (Tensor Prediction, int Index) PredictStep(Tensor[] batch, long batchIdx) => (forward(batch[0]), (int)batchIdx);

                [ConfigureOptimizers]
                Optimization ConfigureOptimizers() => torch.optim.Adam(parameters());
            }
        }
        """);

    [Fact]
    public void ManualOptimization() => Verify(nameof(ManualOptimization), Usings + """

        namespace Samples;

        [LightningModule(AutomaticOptimization = false)]
        public partial class Manual : Module<Tensor, Tensor>
        {
            private readonly TorchSharp.Modules.Linear fc = Linear(4, 1);

            public Manual() : base(nameof(Manual)) => RegisterComponents();

            public override Tensor forward(Tensor x) => fc.forward(x);

            [TrainingStep]
            Tensor TrainingStep((Tensor X, Tensor Y) batch, long batchIdx)
            {
                var optimizer = Optimizers();
                optimizer.zero_grad();
                var loss = functional.mse_loss(forward(batch.X), batch.Y);
                ManualBackward(loss);
                optimizer.step();
                return loss;
            }

            [ConfigureOptimizers]
            Optimization ConfigureOptimizers() => torch.optim.SGD(parameters(), 0.1);
        }
        """);

    [Fact]
    public void CallbackClassWithHooksAndHandlers() => Verify(nameof(CallbackClassWithHooksAndHandlers), Usings + """

        using System;

        namespace Samples.Callbacks;

        [Callback]
        public partial class Recorder
        {
            public int Epochs;

            // Hooks by name: any of the hook's arguments, by type, in any order.
            void OnFitStart(Trainer trainer) => Console.WriteLine("fit starts");
            void OnTrainBatchEnd(long batchIdx, Tensor? loss) { }
            void OnTrainEpochEnd() => Epochs++;

            // Ignite-style handlers with filters.
            [Callback(TrainerEvent.EpochCompleted, Every = 2)]
            void EveryOtherEpoch(Trainer trainer, Samples.Net module) { }

            [Callback(TrainerEvent.IterationCompleted, Once = 3)]
            void ThirdIteration(Tensor loss) { }

            [Callback(TrainerEvent.Started)]
            [Callback(TrainerEvent.Completed)]
            void StartedOrCompleted(ILightningModule module) { }

            // Not hooks: a helper, and a method whose signature no hook can call (the analyzer reports it).
            void Helper() { }
            void OnTrainEpochStart(string wrong) { }
        }
        """, ".Callback.g.cs", NetSource);

    [Fact]
    public void ModuleWithOwnHooksAndHandlers() => Verify(nameof(ModuleWithOwnHooksAndHandlers), NetSource, ".Lightning.g.cs");

    /// <summary>A module with two mistakes (no [ConfigureOptimizers], a training step with three parameters): stand-ins where they are.</summary>
    [Fact]
    public void BrokenModuleGetsStandIns() => Verify(nameof(BrokenModuleGetsStandIns), Usings + """

        namespace Samples;

        [LightningModule]
        public partial class Broken([Hyperparameter] int hidden = 4) : Module<Tensor, Tensor>(nameof(Broken))
        {
            private readonly TorchSharp.Modules.Linear fc = Linear(4, hidden);

            public override Tensor forward(Tensor x) => fc.forward(x);

            [TrainingStep]
            Tensor TrainingStep((Tensor X, Tensor Y) batch, long batchIdx, int extra) => functional.mse_loss(forward(batch.X), batch.Y);

            [ValidationStep]
            void ValidationStep((Tensor X, Tensor Y) batch, int batchIdx) => Log("val_loss", functional.mse_loss(forward(batch.X), batch.Y));

            Optimization ConfigureOptimizers() => torch.optim.Adam(parameters());
        }
        """);

    private const string NotPartialSource = Usings + """

        namespace Samples;

        [LightningModule]
        public class Loose() : Module<Tensor, Tensor>(nameof(Loose))
        {
            private readonly TorchSharp.Modules.Linear fc = Linear(4, 1);

            public override Tensor forward(Tensor x) => fc.forward(x);

            [TrainingStep]
            Tensor TrainingStep((Tensor X, Tensor Y) batch)
            {
                var loss = functional.mse_loss(forward(batch.X), batch.Y);
                Log("loss", loss);
                return loss;
            }

            [ConfigureOptimizers]
            Optimization ConfigureOptimizers() => torch.optim.Adam(parameters());
        }
        """;

    /// <summary>A module that is not partial: Fit/Validate/Test/Predict stand-ins beside it...</summary>
    [Fact]
    public void NotPartialModuleGetsTrainerStandIns() => Verify(nameof(NotPartialModuleGetsTrainerStandIns), NotPartialSource, ".Lightning.g.cs");

    /// <summary>...and the one shared file that keeps its Log calls compiling.</summary>
    [Fact]
    public void NotPartialModuleGetsSharedStandIns() => Verify(nameof(NotPartialModuleGetsSharedStandIns), NotPartialSource, "Lightning.ModuleStandIns.g.cs");

    private const string NetSource = Usings + """

        namespace Samples;

        [LightningModule]
        public partial class Net() : Module<Tensor, Tensor>(nameof(Net))
        {
            private readonly TorchSharp.Modules.Linear fc = Linear(4, 3);
            public int Reports;

            public override Tensor forward(Tensor x) => fc.forward(x);

            [TrainingStep]
            Tensor TrainingStep((Tensor X, Tensor Y) batch) => functional.cross_entropy(forward(batch.X), batch.Y);

            [ConfigureOptimizers]
            Optimization ConfigureOptimizers() => torch.optim.SGD(parameters(), 0.1);

            void OnTrainEpochStart(Trainer trainer, Net self) { }

            [Callback(TrainerEvent.EpochCompleted, Every = 3)]
            void Report() => Reports++;
        }
        """;

    private static void Verify(string name, string source, string suffix = ".Lightning.g.cs", params string[] more)
    {
        var (files, diagnostics) = GeneratorHarness.Run(new[] { source }.Concat(more).ToArray());
        Assert.True(diagnostics.IsEmpty, "The generated code does not compile cleanly:\n" + string.Join("\n", diagnostics));
        var file = Assert.Single(files, f => f.HintName.EndsWith(suffix, StringComparison.Ordinal));

        var dir = Path.Combine(GeneratorHarness.ProjectDirectory(), "Golden");
        var golden = Path.Combine(dir, name + ".txt");
        var received = Path.Combine(dir, name + ".received.txt");
        var actual = file.Text.Replace("\r\n", "\n");
        if (Environment.GetEnvironmentVariable("LIGHTNING_ACCEPT_GOLDEN") == "1")
        {
            File.WriteAllText(golden, actual);
            if (File.Exists(received)) File.Delete(received);
            return;
        }
        var expected = File.Exists(golden) ? File.ReadAllText(golden).Replace("\r\n", "\n") : "";
        if (expected == actual)
        {
            if (File.Exists(received)) File.Delete(received);
            return;
        }
        File.WriteAllText(received, actual);
        var line = expected.Split('\n').Zip(actual.Split('\n')).Select((p, i) => (p, i)).FirstOrDefault(x => x.p.First != x.p.Second);
        Assert.Fail($"Generated code differs from {golden} (first difference at line {line.i + 1}). Wrote {received}.");
    }
}
