using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Lightning.Checkpoints;
using Lightning.Tests.Training;
using TorchSharp;
using TorchSharp.Modules;
using Xunit;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Lightning.Tests.Checkpoints;

/// <summary>
/// A classifier whose optimizer is chosen by name, to run every optimizer the named-tensor layout supports (and one
/// it does not): 4 parameters, fc1.weight [8, 4], fc1.bias [8], fc2.weight [3, 8], fc2.bias [3].
/// </summary>
[LightningModule]
public partial class OptimizerZoo : Module<Tensor, Tensor>
{
    private readonly Linear fc1 = Linear(4, 8);
    private readonly Linear fc2 = Linear(8, 3);

    public OptimizerZoo() : base(nameof(OptimizerZoo)) => RegisterComponents();

    /// <summary>Which optimizer [ConfigureOptimizers] builds; see <see cref="NewOptimizer"/>.</summary>
    [Hyperparameter] public string Kind { get; init; } = "adam";

    public override Tensor forward(Tensor x) => fc2.forward(functional.relu(fc1.forward(x)));

    [TrainingStep]
    private Tensor TrainingStep((Tensor X, Tensor Y) batch, long batchIdx) => functional.cross_entropy(forward(batch.X), batch.Y);

    [ConfigureOptimizers]
    private Optimization ConfigureOptimizers()
    {
        var optimizer = NewOptimizer();
        return new Optimization(optimizer, optim.lr_scheduler.ExponentialLR(optimizer, gamma: 0.8));
    }

    /// <summary>A new optimizer of <see cref="Kind"/> over this module's parameters, with non-default hyperparameters.</summary>
    public optim.Optimizer NewOptimizer() => Kind switch
    {
        "adam" => optim.Adam(parameters(), lr: 0.05),
        "adam_amsgrad" => optim.Adam(parameters(), lr: 0.05, beta1: 0.8, weight_decay: 0.01, amsgrad: true),
        "adam_groups" => optim.Adam(new[]
        {
            new Adam.ParamGroup(fc1.parameters().ToList(), lr: 0.05),
            new Adam.ParamGroup(fc2.parameters().ToList(), lr: 0.01, beta1: 0.8, beta2: 0.99),
        }, lr: 0.05),
        "adamw" => optim.AdamW(parameters(), lr: 0.05, weight_decay: 0.1),
        "sgd" => optim.SGD(parameters(), learningRate: 0.1),
        "sgd_momentum" => optim.SGD(parameters(), learningRate: 0.1, momentum: 0.9, dampening: 0.1, weight_decay: 1e-3),
        "sgd_nesterov" => optim.SGD(parameters(), learningRate: 0.1, momentum: 0.9, nesterov: true),
        "rmsprop" => optim.RMSProp(parameters(), lr: 0.01),
        "rmsprop_centered" => optim.RMSProp(parameters(), lr: 0.01, alpha: 0.9, weight_decay: 1e-3, momentum: 0.5, centered: true),
        "adagrad" => optim.Adagrad(parameters(), lr: 0.1, lr_decay: 0.01, initial_accumulator_value: 0.1),
        "adamax" => optim.Adamax(parameters(), lr: 0.05),
        _ => throw new ArgumentException($"unknown optimizer kind '{Kind}'"),
    };
}

/// <summary>Rewrites a checkpoint the way Lightning wrote it before the named optimizer tensors.</summary>
internal static class LegacyCheckpoint
{
    /// <summary>
    /// Replaces the <c>optimizer.*</c> tensors and the <c>optimizer</c> metadata of <paramref name="path"/> by TorchSharp's
    /// opaque blob of <paramref name="optimizer"/> (which must hold the state that was saved) under <c>optimizer.state</c>.
    /// </summary>
    public static void UseOptimizerBlob(string path, optim.Optimizer optimizer)
    {
        var file = SafetensorsFile.Read(path);
        var tensors = file.LoadAll().ToList();
        try
        {
            var kept = tensors.Where(t => !t.Name.StartsWith(OptimizerStateTensors.TensorPrefix, StringComparison.Ordinal)).ToList();
            kept.Add((Checkpoint.OptimizerState, tensor(OptimizerBlob(optimizer))));
            tensors.Add(kept[^1]);
            var metadata = file.Metadata.Where(kv => kv.Key != OptimizerStateTensors.MetadataKey).ToDictionary(kv => kv.Key, kv => kv.Value);
            SafetensorsFile.Write(path, kept, metadata);
        }
        finally
        {
            foreach (var (_, t) in tensors) t.Dispose();
        }
    }

    /// <summary>TorchSharp's own serialization of the optimizer: its type, every hyperparameter and every state tensor.</summary>
    public static byte[] OptimizerBlob(optim.Optimizer optimizer)
    {
        using var buffer = new MemoryStream();
        using (var writer = new BinaryWriter(buffer, Encoding.UTF8, leaveOpen: true))
            ((OptimizerHelper)optimizer).save_state_dict(writer);
        return buffer.ToArray();
    }
}

/// <summary>
/// The optimizer state stored as named tensors (<c>optimizer.state.&lt;i&gt;.&lt;name&gt;</c>) and JSON hyperparameters:
/// exact round trips and resumed fits for each supported optimizer, the file's layout, hostile files refused without
/// touching the optimizer, and files with TorchSharp's blob (older files, unsupported optimizers) still read.
/// TorchSharp's own state serialization (<see cref="LegacyCheckpoint.OptimizerBlob"/>) is the independent oracle:
/// equal bytes mean equal type, hyperparameters, steps and state tensors, bit for bit.
/// </summary>
[Collection("Training")]
public sealed class OptimizerStateTensorsTests : IDisposable
{
    private const string ModuleType = "Lightning.Tests.Checkpoints.OptimizerZoo";

    private readonly string _dir = Directory.CreateTempSubdirectory("lightning-optim-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    public static TheoryData<string> SupportedKinds => new()
    {
        "adam", "adam_amsgrad", "adam_groups", "adamw", "sgd", "sgd_momentum", "sgd_nesterov", "rmsprop", "rmsprop_centered", "adagrad",
    };

    private static (OptimizerZoo Model, optim.Optimizer Optimizer) Fresh(string kind, long seed)
    {
        Seed.Everything(seed);
        var model = new OptimizerZoo { Kind = kind };
        return (model, model.NewOptimizer());
    }

    /// <summary>Takes <paramref name="steps"/> optimizer steps on a fixed batch.</summary>
    private static void Train(OptimizerZoo model, optim.Optimizer optimizer, int steps)
    {
        var (x, y) = SyntheticData.Blobs(32, 7);
        for (int i = 0; i < steps; i++)
        {
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            functional.cross_entropy(model.forward(x), y).backward();
            optimizer.step();
        }
    }

    private static void Save(string path, OptimizerZoo model, optim.Optimizer optimizer) =>
        Checkpoint.Save(path, model, new TrainingState(0, 3, 0, true, true, 3, optimizer, "{\"steps\": 0, \"plateau_values\": []}", "{}", "{}"));

    private static void Restore(string path, optim.Optimizer optimizer) => Checkpoint.Open(path, ModuleType).RestoreOptimizer(optimizer);

    /// <summary>A checkpoint of <paramref name="kind"/> after 3 steps, with the learning rates changed as a scheduler would.</summary>
    private (string Path, optim.Optimizer Optimizer) SavedAfterSteps(string kind)
    {
        var (model, optimizer) = Fresh(kind, 1);
        Train(model, optimizer, 3);
        foreach (var group in optimizer.ParamGroups) group.LearningRate *= 0.37;
        var path = Path.Combine(_dir, kind + ".ckpt");
        Save(path, model, optimizer);
        return (path, optimizer);
    }

    private static TrainerOptions Options(int epochs, string dir) =>
        new() { MaxEpochs = epochs, Seed = 21, Output = TextWriter.Null, Threads = 1, DefaultRootDir = dir };

    private static Lightning.Data.TensorDataLoader Loader() => SyntheticData.Loader(96, 5, 32, shuffle: true);

    private static Dictionary<string, float[]> Weights(OptimizerZoo model) =>
        model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.data<float>().ToArray());

    // ------------------------------------------------------------------ exact round trips

    [Theory]
    [MemberData(nameof(SupportedKinds))]
    public void ARoundTripAfterAFewStepsGivesBitwiseTheSameStateAndLearningRates(string kind)
    {
        var (path, saved) = SavedAfterSteps(kind);
        var (_, restored) = Fresh(kind, 2);
        Assert.NotEqual(LegacyCheckpoint.OptimizerBlob(saved), LegacyCheckpoint.OptimizerBlob(restored));

        Restore(path, restored);

        Assert.Equal(LegacyCheckpoint.OptimizerBlob(saved), LegacyCheckpoint.OptimizerBlob(restored));
        Assert.Equal(saved.ParamGroups.Select(g => g.LearningRate), restored.ParamGroups.Select(g => g.LearningRate));
        Assert.Equal(saved.ParamGroups.Select(g => g.InitialLearningRate), restored.ParamGroups.Select(g => g.InitialLearningRate));
    }

    [Fact]
    public void AdamsMomentsAndStepsComeBackBitwise()
    {
        var (path, saved) = SavedAfterSteps("adam_amsgrad");
        var (_, restored) = Fresh("adam_amsgrad", 2);
        Restore(path, restored);
        var expected = ((Adam)saved).state_dict().State.Cast<Adam.State>().ToList();
        var actual = ((Adam)restored).state_dict().State.Cast<Adam.State>().ToList();
        Assert.Equal(4, actual.Count);
        for (int i = 0; i < 4; i++)
        {
            Assert.Equal(3, actual[i].step);
            Assert.Equal(expected[i].exp_avg.data<float>().ToArray(), actual[i].exp_avg.data<float>().ToArray());
            Assert.Equal(expected[i].exp_avg_sq.data<float>().ToArray(), actual[i].exp_avg_sq.data<float>().ToArray());
            Assert.Equal(expected[i].max_exp_avg_sq.data<float>().ToArray(), actual[i].max_exp_avg_sq.data<float>().ToArray());
        }
    }

    [Fact]
    public void RestoringSetsTheSavedHyperparametersAndDropsBuffersTheFileDoesNotHave()
    {
        // An SGD saved before its first step has no momentum buffer: a restored SGD that had one loses it.
        var (model, sgd) = Fresh("sgd_momentum", 1);
        var path = Path.Combine(_dir, "sgd0.ckpt");
        Save(path, model, sgd);
        var (other, stepped) = Fresh("sgd_momentum", 2);
        Train(other, stepped, 2);
        Assert.NotNull(((SGD)stepped).state_dict().State.Cast<SGD.State>().First().momentum_buffer);
        Restore(path, stepped);
        Assert.Null(((SGD)stepped).state_dict().State.Cast<SGD.State>().First().momentum_buffer);
        Assert.Equal(LegacyCheckpoint.OptimizerBlob(sgd), LegacyCheckpoint.OptimizerBlob(stepped));

        // A plain Adam's state restored into an AMSGrad Adam: the file's hyperparameters (amsgrad false) win.
        var (adamPath, adam) = SavedAfterSteps("adam");
        var (_, amsgrad) = Fresh("adam_amsgrad", 3);
        Restore(adamPath, amsgrad);
        Assert.Equal(LegacyCheckpoint.OptimizerBlob(adam), LegacyCheckpoint.OptimizerBlob(amsgrad));
    }

    [Theory]
    [MemberData(nameof(SupportedKinds))]
    public void AResumedFitGivesBitwiseTheWeightsAndStateOfAnUninterruptedOne(string kind)
    {
        var uninterrupted = Fresh(kind, 21).Model;
        var full = new Trainer(Options(4, _dir));
        full.Fit(uninterrupted, Loader());

        var part = new Trainer(Options(2, _dir));
        part.Fit(Fresh(kind, 21).Model, Loader());
        var path = Path.Combine(_dir, "half.ckpt");
        part.SaveCheckpoint(path);
        Assert.True(SafetensorsFile.Read(path).Metadata.ContainsKey(OptimizerStateTensors.MetadataKey));
        Assert.False(SafetensorsFile.Read(path).Contains(Checkpoint.OptimizerState));

        var resumed = Fresh(kind, 99).Model;   // other initial weights: everything must come from the file
        var rest = new Trainer(Options(4, _dir));
        rest.Fit(resumed, Loader(), ckptPath: path);

        Assert.Equal(full.GlobalStep, rest.GlobalStep);
        var expected = Weights(uninterrupted);
        foreach (var (key, values) in Weights(resumed)) Assert.Equal(expected[key], values);
        Assert.Equal(full.Optimizer!.ParamGroups.Select(g => g.LearningRate), rest.Optimizer!.ParamGroups.Select(g => g.LearningRate));
        Assert.Equal(LegacyCheckpoint.OptimizerBlob(full.Optimizer), LegacyCheckpoint.OptimizerBlob(rest.Optimizer));
    }

    // ------------------------------------------------------------------ the file's layout

    private static string TypeOf(string kind) => kind.Split('_')[0];

    private static string[] StateNames(string kind) => kind switch
    {
        "adam" or "adam_groups" or "adamw" => new[] { "step", "exp_avg", "exp_avg_sq" },
        "adam_amsgrad" => new[] { "step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq" },
        "sgd" => Array.Empty<string>(),   // no momentum: TorchSharp keeps no buffer
        "sgd_momentum" or "sgd_nesterov" => new[] { "momentum_buffer" },
        "rmsprop" or "rmsprop_centered" => new[] { "step", "square_avg", "momentum_buffer", "grad_avg" },
        "adagrad" => new[] { "step", "sum" },
        _ => throw new ArgumentException(kind),
    };

    private static string[] GroupKeys(string type) => type switch
    {
        "adam" or "adamw" => new[] { "lr", "initial_lr", "betas", "eps", "weight_decay", "amsgrad", "maximize", "params" },
        "sgd" => new[] { "lr", "initial_lr", "momentum", "dampening", "weight_decay", "nesterov", "maximize", "params" },
        "rmsprop" => new[] { "lr", "initial_lr", "alpha", "eps", "weight_decay", "momentum", "centered", "maximize", "params" },
        "adagrad" => new[] { "lr", "initial_lr", "lr_decay", "eps", "weight_decay", "initial_accumulator_value", "params" },
        _ => throw new ArgumentException(type),
    };

    [Theory]
    [MemberData(nameof(SupportedKinds))]
    public void TheFileHoldsNamedTensorsWithTheParametersDtypeAndShapeAndTheHyperparametersAsJson(string kind)
    {
        var (path, optimizer) = SavedAfterSteps(kind);
        var file = SafetensorsFile.Read(path);
        var shapes = new long[][] { new long[] { 8, 4 }, new long[] { 8 }, new long[] { 3, 8 }, new long[] { 3 } };

        var expected = Enumerable.Range(0, 4).SelectMany(i => StateNames(kind).Select(n => $"optimizer.state.{i}.{n}")).OrderBy(n => n, StringComparer.Ordinal);
        var actual = file.Tensors.Select(e => e.Name).Where(n => n.StartsWith("optimizer.", StringComparison.Ordinal)).OrderBy(n => n, StringComparer.Ordinal);
        Assert.Equal(expected, actual);
        for (int i = 0; i < 4; i++)
        {
            foreach (var name in StateNames(kind))
            {
                var entry = file.GetEntry($"optimizer.state.{i}.{name}");
                if (name == "step")
                {
                    Assert.Equal(("I64", 0), (entry.Dtype, entry.Shape.Count));
                    using var step = file.Load(entry.Name);
                    Assert.Equal(3L, step.item<long>());
                }
                else
                {
                    Assert.Equal("F32", entry.Dtype);
                    Assert.Equal(shapes[i], entry.Shape);
                }
            }
        }

        using var json = JsonDocument.Parse(file.Metadata[OptimizerStateTensors.MetadataKey]);
        Assert.Equal(new[] { "type", "param_groups" }, json.RootElement.EnumerateObject().Select(p => p.Name));
        Assert.Equal(TypeOf(kind), json.RootElement.GetProperty("type").GetString());
        var groups = json.RootElement.GetProperty("param_groups").EnumerateArray().ToList();
        var live = optimizer.ParamGroups.ToList();
        Assert.Equal(live.Count, groups.Count);
        var indices = new List<int>();
        for (int g = 0; g < groups.Count; g++)
        {
            Assert.Equal(GroupKeys(TypeOf(kind)), groups[g].EnumerateObject().Select(p => p.Name));
            Assert.Equal(live[g].LearningRate, groups[g].GetProperty("lr").GetDouble());
            indices.AddRange(groups[g].GetProperty("params").EnumerateArray().Select(p => p.GetInt32()));
        }
        Assert.Equal(new[] { 0, 1, 2, 3 }, indices);
    }

    [Fact]
    public void TheGroupsHyperparametersAreStoredWithPyTorchsNames()
    {
        var (path, _) = SavedAfterSteps("adam_groups");
        using var json = JsonDocument.Parse(SafetensorsFile.Read(path).Metadata["optimizer"]);
        var second = json.RootElement.GetProperty("param_groups")[1];
        Assert.Equal(0.01 * 0.37, second.GetProperty("lr").GetDouble());
        Assert.Equal(0.01, second.GetProperty("initial_lr").GetDouble());
        Assert.Equal(new[] { 0.8, 0.99 }, second.GetProperty("betas").EnumerateArray().Select(b => b.GetDouble()));
        Assert.Equal(1e-8, second.GetProperty("eps").GetDouble());
        Assert.Equal(JsonValueKind.False, second.GetProperty("amsgrad").ValueKind);
        Assert.Equal(new[] { 2, 3 }, second.GetProperty("params").EnumerateArray().Select(p => p.GetInt32()));
    }

    // ------------------------------------------------------------------ hostile files

    /// <summary>Writes <paramref name="bad"/>: <paramref name="good"/> (an adam_groups checkpoint) with one defect; returns what the error must say.</summary>
    private static string Tamper(string good, string bad, string variant)
    {
        var file = SafetensorsFile.Read(good);
        var tensors = file.LoadAll().ToList();
        var metadata = file.Metadata.ToDictionary(kv => kv.Key, kv => kv.Value);
        var json = JsonNode.Parse(metadata["optimizer"])!;
        var groups = json["param_groups"]!.AsArray();
        string? raw = null;

        void Put(string name, Tensor value)
        {
            int at = tensors.FindIndex(t => t.Name == name);
            if (at < 0) tensors.Add((name, value));
            else { tensors[at].Tensor.Dispose(); tensors[at] = (name, value); }
        }
        void Remove(string name)
        {
            int at = tensors.FindIndex(t => t.Name == name);
            tensors[at].Tensor.Dispose();
            tensors.RemoveAt(at);
        }
        string WithEps(string literal)
        {
            groups[0]!["eps"] = 7777.5;
            return json.ToJsonString().Replace("7777.5", literal);
        }

        string expected;
        switch (variant)
        {
            case "wrong_shape": Put("optimizer.state.0.exp_avg", zeros(4, 8)); expected = "'optimizer.state.0.exp_avg' is Float32 [4, 8] in the file but must be Float32 [8, 4]"; break;
            case "wrong_dtype": Put("optimizer.state.1.exp_avg_sq", zeros(new long[] { 8 }, ScalarType.Float64)); expected = "'optimizer.state.1.exp_avg_sq' is Float64 [8]"; break;
            case "step_dtype": Put("optimizer.state.2.step", tensor(3)); expected = "'optimizer.state.2.step' is Int32 [] in the file but must be Int64 []"; break;
            case "step_shape": Put("optimizer.state.2.step", tensor(new long[] { 3 })); expected = "'optimizer.state.2.step' is Int64 [1]"; break;
            case "negative_step": Put("optimizer.state.3.step", tensor(-1L)); expected = "'optimizer.state.3.step' is -1"; break;
            case "negative_square": Put("optimizer.state.0.exp_avg_sq", -ones(8, 4)); expected = "'optimizer.state.0.exp_avg_sq' has negative values"; break;
            case "missing_tensor": Remove("optimizer.state.3.exp_avg"); expected = "missing tensors: optimizer.state.3.exp_avg"; break;
            case "missing_step": Remove("optimizer.state.1.step"); expected = "missing tensors: optimizer.state.1.step"; break;
            case "extra_tensor": Put("optimizer.state.0.momentum_buffer", zeros(8, 4)); expected = "unexpected tensors: optimizer.state.0.momentum_buffer"; break;
            case "extra_index": Put("optimizer.state.4.exp_avg", zeros(3)); expected = "unexpected tensors: optimizer.state.4.exp_avg"; break;
            case "blob_too": Put("optimizer.state", tensor(new byte[] { 1, 2, 3 })); expected = "unexpected tensors: optimizer.state"; break;
            case "amsgrad_without_max":
                groups[0]!["amsgrad"] = true;
                expected = "missing tensors: optimizer.state.0.max_exp_avg_sq, optimizer.state.1.max_exp_avg_sq";
                break;
            case "other_type": json["type"] = "adamw"; expected = "metadata 'optimizer') is of type 'adamw', but the optimizer is Adam ('adam')"; break;
            case "unknown_type": json["type"] = "lamb"; expected = "its type 'lamb' is not one this version reads"; break;
            case "type_not_string": json["type"] = 3; expected = "it has no 'type' string"; break;
            case "lr_string": groups[0]!["lr"] = "0.05"; expected = "param_groups[0].lr is a string (\"0.05\"), not a number"; break;
            case "negative_lr": groups[1]!["lr"] = -0.01; expected = "param_groups[1].lr is -0.01; it must be a number >= 0 within float32's range"; break;
            case "nan_eps": raw = WithEps("NaN"); expected = "metadata 'optimizer' is invalid: it is not valid JSON"; break;
            case "infinite_eps": raw = WithEps("1e999"); expected = "param_groups[0].eps is 1e999; it must be a number >= 0 within float32's range"; break;
            case "huge_lr": groups[0]!["lr"] = 1e308; expected = "param_groups[0].lr is 1E+308; it must be a number >= 0 within float32's range"; break;
            case "null_eps": groups[1]!["eps"] = null; expected = "param_groups[1].eps is null, not a number"; break;
            case "beta_one": groups[0]!["betas"] = new JsonArray(0.9, 1.0); expected = "param_groups[0].betas[1] is 1; it must be a number in [0, 1)"; break;
            case "negative_beta": groups[1]!["betas"] = new JsonArray(-0.1, 0.99); expected = "param_groups[1].betas[0] is -0.1"; break;
            case "three_betas": groups[0]!["betas"] = new JsonArray(0.9, 0.99, 0.5); expected = "param_groups[0].betas is an array of 3 items, not an array of two numbers"; break;
            case "amsgrad_number": groups[0]!["amsgrad"] = 1; expected = "param_groups[0].amsgrad is a number (1), not true or false"; break;
            case "group_count": groups.RemoveAt(1); expected = "it has 1 param groups, but the optimizer has 2"; break;
            case "params_count": groups[0]!["params"] = new JsonArray(0); expected = "param_groups[0].params is [0], but the optimizer's group has the parameters [0, 1]"; break;
            case "params_order": groups[1]!["params"] = new JsonArray(3, 2); expected = "param_groups[1].params is [3,2], but the optimizer's group has the parameters [2, 3]"; break;
            case "missing_hyperparameter": groups[1]!.AsObject().Remove("weight_decay"); expected = "param_groups[1] has no 'weight_decay'"; break;
            case "unexpected_hyperparameter": groups[0]!["momentum"] = 0.9; expected = "param_groups[0] has an unexpected key 'momentum'"; break;
            case "unexpected_root_key": json["state"] = new JsonObject(); expected = "it has an unexpected key 'state'"; break;
            case "duplicate_key": raw = json.ToJsonString().Replace("{\"type\":\"adam\",", "{\"type\":\"adam\",\"type\":\"adam\","); expected = "metadata 'optimizer' is invalid: it is not valid JSON"; break;
            case "duplicate_nested_key": raw = json.ToJsonString().Replace("{\"lr\":", "{\"lr\":0.5,\"lr\":"); expected = "metadata 'optimizer' is invalid: it is not valid JSON"; break;
            case "not_an_object": raw = "[]"; expected = "metadata 'optimizer' is invalid: it is not a JSON object"; break;
            default: throw new ArgumentException(variant);
        }
        Assert.True(raw is null || raw != json.ToJsonString(), "the raw edit did not apply");
        metadata["optimizer"] = raw ?? json.ToJsonString();
        try { SafetensorsFile.Write(bad, tensors, metadata); }
        finally { foreach (var (_, t) in tensors) t.Dispose(); }
        return expected;
    }

    [Theory]
    [InlineData("wrong_shape")]
    [InlineData("wrong_dtype")]
    [InlineData("step_dtype")]
    [InlineData("step_shape")]
    [InlineData("negative_step")]
    [InlineData("negative_square")]
    [InlineData("missing_tensor")]
    [InlineData("missing_step")]
    [InlineData("extra_tensor")]
    [InlineData("extra_index")]
    [InlineData("blob_too")]
    [InlineData("amsgrad_without_max")]
    [InlineData("other_type")]
    [InlineData("unknown_type")]
    [InlineData("type_not_string")]
    [InlineData("lr_string")]
    [InlineData("negative_lr")]
    [InlineData("nan_eps")]
    [InlineData("infinite_eps")]
    [InlineData("huge_lr")]
    [InlineData("null_eps")]
    [InlineData("beta_one")]
    [InlineData("negative_beta")]
    [InlineData("three_betas")]
    [InlineData("amsgrad_number")]
    [InlineData("group_count")]
    [InlineData("params_count")]
    [InlineData("params_order")]
    [InlineData("missing_hyperparameter")]
    [InlineData("unexpected_hyperparameter")]
    [InlineData("unexpected_root_key")]
    [InlineData("duplicate_key")]
    [InlineData("duplicate_nested_key")]
    [InlineData("not_an_object")]
    public void AHostileFileIsACheckpointExceptionNamingTheKeyAndTheOptimizerIsUnchanged(string variant)
    {
        var (good, _) = SavedAfterSteps("adam_groups");
        var bad = Path.Combine(_dir, variant + ".ckpt");
        string expected = Tamper(good, bad, variant);
        var (model, optimizer) = Fresh("adam_groups", 5);
        Train(model, optimizer, 1);
        var before = LegacyCheckpoint.OptimizerBlob(optimizer);

        var e = Assert.Throws<CheckpointException>(() => Restore(bad, optimizer));

        Assert.StartsWith($"Checkpoint '{bad}': ", e.Message);
        Assert.Contains(expected, e.Message);
        Assert.DoesNotContain("\n", e.Message);
        Assert.Equal(before, LegacyCheckpoint.OptimizerBlob(optimizer));
    }

    [Fact]
    public void AnotherOptimizerTypeOrGroupLayoutIsRefusedAndChangesNothing()
    {
        var (path, _) = SavedAfterSteps("adam_groups");

        var (_, sgd) = Fresh("sgd_momentum", 2);
        var before = LegacyCheckpoint.OptimizerBlob(sgd);
        var e = Assert.Throws<CheckpointException>(() => Restore(path, sgd));
        Assert.Contains($"Checkpoint '{path}': its optimizer state (metadata 'optimizer') is of type 'adam', but the optimizer is SGD ('sgd')", e.Message);
        Assert.Equal(before, LegacyCheckpoint.OptimizerBlob(sgd));

        var (_, oneGroup) = Fresh("adam", 2);
        before = LegacyCheckpoint.OptimizerBlob(oneGroup);
        e = Assert.Throws<CheckpointException>(() => Restore(path, oneGroup));
        Assert.Contains("its metadata 'optimizer' is invalid: it has 2 param groups, but the optimizer has 1", e.Message);
        Assert.Equal(before, LegacyCheckpoint.OptimizerBlob(oneGroup));

        var (_, unsupported) = Fresh("adamax", 2);
        e = Assert.Throws<CheckpointException>(() => Restore(path, unsupported));
        Assert.Contains("but the optimizer is Adamax ('unsupported')", e.Message);
    }

    [Fact]
    public void AResumedFitRefusesAHostileOptimizerState()
    {
        var part = new Trainer(Options(1, _dir));
        part.Fit(Fresh("adam", 21).Model, Loader());
        var good = Path.Combine(_dir, "good.ckpt");
        part.SaveCheckpoint(good);
        var file = SafetensorsFile.Read(good);
        var tensors = file.LoadAll().ToList();
        var metadata = file.Metadata.ToDictionary(kv => kv.Key, kv => kv.Value);
        metadata["optimizer"] = metadata["optimizer"].Replace("\"eps\":1E-08", "\"eps\":-1");
        var bad = Path.Combine(_dir, "bad.ckpt");
        SafetensorsFile.Write(bad, tensors, metadata);
        foreach (var (_, t) in tensors) t.Dispose();

        var e = Assert.Throws<CheckpointException>(() => new Trainer(Options(2, _dir)).Fit(Fresh("adam", 3).Model, Loader(), ckptPath: bad));
        Assert.Contains($"Checkpoint '{bad}': its metadata 'optimizer' is invalid: param_groups[0].eps is -1; it must be a number >= 0 within float32's range", e.Message);
    }

    // ------------------------------------------------------------------ TorchSharp's blob

    [Fact]
    public void AnOldFileWithTheOptimizerBlobStillResumesExactly()
    {
        var uninterrupted = Fresh("adam", 21).Model;
        var full = new Trainer(Options(4, _dir));
        full.Fit(uninterrupted, Loader());

        var part = new Trainer(Options(2, _dir));
        part.Fit(Fresh("adam", 21).Model, Loader());
        var path = Path.Combine(_dir, "old.ckpt");
        part.SaveCheckpoint(path);
        LegacyCheckpoint.UseOptimizerBlob(path, part.Optimizer!);
        var file = SafetensorsFile.Read(path);
        Assert.True(file.Contains(Checkpoint.OptimizerState));
        Assert.False(file.Metadata.ContainsKey(OptimizerStateTensors.MetadataKey));
        Assert.DoesNotContain(file.Tensors, e => e.Name.StartsWith(OptimizerStateTensors.StatePrefix, StringComparison.Ordinal));

        var resumed = Fresh("adam", 99).Model;
        var rest = new Trainer(Options(4, _dir));
        rest.Fit(resumed, Loader(), ckptPath: path);

        var expected = Weights(uninterrupted);
        foreach (var (key, values) in Weights(resumed)) Assert.Equal(expected[key], values);
        Assert.Equal(LegacyCheckpoint.OptimizerBlob(full.Optimizer!), LegacyCheckpoint.OptimizerBlob(rest.Optimizer!));
    }

    [Fact]
    public void AnUnsupportedOptimizerKeepsTheBlobAndRoundTrips()
    {
        var (model, adamax) = Fresh("adamax", 1);
        Train(model, adamax, 3);
        var path = Path.Combine(_dir, "adamax.ckpt");
        Save(path, model, adamax);
        var file = SafetensorsFile.Read(path);
        Assert.Equal("U8", file.GetEntry(Checkpoint.OptimizerState).Dtype);
        Assert.False(file.Metadata.ContainsKey(OptimizerStateTensors.MetadataKey));
        Assert.Single(file.Tensors, e => e.Name.StartsWith(OptimizerStateTensors.TensorPrefix, StringComparison.Ordinal));

        var (_, restored) = Fresh("adamax", 2);
        Restore(path, restored);
        Assert.Equal(LegacyCheckpoint.OptimizerBlob(adamax), LegacyCheckpoint.OptimizerBlob(restored));
    }

    [Fact]
    public void AHyperparameterOutOfRangeFallsBackToTheBlob()
    {
        // Set after construction, where TorchSharp does not check it: the named layout would refuse it on reading.
        var (model, adam) = Fresh("adam", 1);
        Train(model, adam, 1);
        ((Adam)adam).ParamGroups.Cast<Adam.ParamGroup>().Single().Options.eps = double.NaN;
        var tensors = new List<(string, Tensor)>();
        var metadata = new Dictionary<string, string>();
        Assert.False(OptimizerStateTensors.Write(adam, tensors, metadata));
        Assert.Empty(tensors);
        Assert.Empty(metadata);

        var path = Path.Combine(_dir, "nan-eps.ckpt");
        Save(path, model, adam);
        Assert.True(SafetensorsFile.Read(path).Contains(Checkpoint.OptimizerState));
    }

    [Fact]
    public void SupportedTypesAreListed() =>
        Assert.Equal(new[] { "adam", "adamw", "sgd", "rmsprop", "adagrad" }, OptimizerStateTensors.SupportedTypes);
}
