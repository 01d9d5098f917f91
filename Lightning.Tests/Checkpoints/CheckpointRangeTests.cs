using System;
using System.IO;
using System.Linq;
using Lightning.Checkpoints;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Lightning.Tests.Checkpoints;

/// <summary>A conv whose channel count is bounded: a checkpoint edited to filters = 0 must be a clear error, not a native crash.</summary>
[LightningModule]
public partial class RangedConv([Hyperparameter(Description = "output channels", Min = 1, Max = 64)] int filters = 4)
    : Module<Tensor, Tensor>(nameof(RangedConv))
{
    private readonly TorchSharp.Modules.Conv2d conv = Conv2d(1, filters, 3, padding: 1);

    public override Tensor forward(Tensor x) => conv.forward(x).mean(new long[] { 2, 3 });

    [TrainingStep]
    private Tensor TrainingStep((Tensor X, Tensor Y) batch) => functional.mse_loss(forward(batch.X), batch.Y);

    [ConfigureOptimizers]
    private Optimization ConfigureOptimizers() => torch.optim.SGD(parameters(), 0.1);
}

/// <summary>A module without ranges whose building can fail: a negative width (TorchSharp's native error) or a simulated out-of-memory.</summary>
[LightningModule]
public partial class UncheckedWidth([Hyperparameter] int width = 3, [Hyperparameter] bool outOfMemory = false)
    : Module<Tensor, Tensor>(nameof(UncheckedWidth))
{
    private readonly TorchSharp.Modules.Linear fc = outOfMemory ? throw new OutOfMemoryException("simulated") : Linear(4, width);

    public override Tensor forward(Tensor x) => fc.forward(x);

    [TrainingStep]
    private Tensor TrainingStep((Tensor X, Tensor Y) batch) => functional.mse_loss(forward(batch.X), batch.Y);

    [ConfigureOptimizers]
    private Optimization ConfigureOptimizers() => torch.optim.SGD(parameters(), 0.1);
}

/// <summary>LoadFromCheckpoint checks the saved hyperparameters' ranges and turns any failure to build the module into a CheckpointException.</summary>
[Collection("Training")]
public sealed class CheckpointRangeTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("lightning-ckpt-range-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>Saves <paramref name="module"/>, then writes a copy whose saved hyperparameters are <paramref name="hparamsJson"/>.</summary>
    private string SavedWithHParams(ILightningModule module, string hparamsJson)
    {
        var original = Path.Combine(_dir, "original.ckpt");
        Checkpoint.Save(original, module);
        var file = SafetensorsFile.Read(original);
        var metadata = file.Metadata.ToDictionary(kv => kv.Key, kv => kv.Value);
        metadata["hparams"] = hparamsJson;
        var edited = Path.Combine(_dir, "edited.ckpt");
        SafetensorsFile.Write(edited, file.LoadAll(), metadata);
        return edited;
    }

    [Theory]
    [InlineData(0, "'filters' is 0; expected at least 1 and at most 64.")]
    [InlineData(-1, "'filters' is -1; expected at least 1 and at most 64.")]
    [InlineData(1_000_000, "'filters' is 1000000; expected at least 1 and at most 64.")]
    public void SavedHyperparametersOutOfRangeAreACheckpointExceptionNamingThem(int filters, string problem)
    {
        using var module = new RangedConv();
        var path = SavedWithHParams(module, "{\"filters\": " + filters + "}");
        var e = Assert.Throws<CheckpointException>(() => RangedConv.LoadFromCheckpoint(path));
        Assert.Equal($"Checkpoint '{path}': saved hyperparameters: {problem}", e.Message);
        Assert.Equal(path, e.FilePath);
        Assert.Equal("filters", Assert.IsType<HyperParameterRangeException>(e.InnerException).Name);
    }

    [Fact]
    public void AnOverrideOutOfRangeIsACheckpointExceptionToo()
    {
        using var module = new RangedConv();
        var path = SavedWithHParams(module, "{\"filters\": 4}");
        var e = Assert.Throws<CheckpointException>(() => RangedConv.LoadFromCheckpoint(path, h => h with { Filters = 0 }));
        Assert.Equal($"Checkpoint '{path}': hyperparameters after overrides: 'filters' is 0; expected at least 1 and at most 64.", e.Message);
    }

    [Fact]
    public void BoundaryValuesLoad()
    {
        foreach (var filters in new[] { 1, 64 })
        {
            using var module = new RangedConv(filters);
            var path = Path.Combine(_dir, $"f{filters}.ckpt");
            Checkpoint.Save(path, module);
            using var loaded = RangedConv.LoadFromCheckpoint(path);
            Assert.Equal(filters, loaded.Hparams.Filters);
        }
    }

    [Fact]
    public void ANativeErrorWhileBuildingNamesTheFileAndListsTheHyperparameters()
    {
        using var module = new UncheckedWidth();
        var path = SavedWithHParams(module, "{\"width\": -3, \"out_of_memory\": false}");
        var e = Assert.Throws<CheckpointException>(() => UncheckedWidth.LoadFromCheckpoint(path));
        Assert.StartsWith($"Checkpoint '{path}': building UncheckedWidth from its saved hyperparameters (width=-3, out_of_memory=false) failed: ", e.Message);
        Assert.DoesNotContain('\n', e.Message);
        Assert.NotNull(e.InnerException);
    }

    [Fact]
    public void AHugeModuleFromSavedHyperparametersIsRefusedOnTheMetaDeviceBeforeAnyWeightIsAllocated()
    {
        using var module = new UncheckedWidth();
        // 4 x 200,000,000 floats would be 3.2 GB: built on the meta device, its shapes are compared with the file's first.
        var path = SavedWithHParams(module, "{\"width\": 200000000, \"out_of_memory\": false}");
        long before = System.Diagnostics.Process.GetCurrentProcess().PeakWorkingSet64;
        var e = Assert.Throws<CheckpointException>(() => UncheckedWidth.LoadFromCheckpoint(path));
        Assert.Contains("its weights do not fit the module: 'fc.weight' is Float32 [3, 4] in the file but Float32 [200000000, 4] in the module", e.Message);
        long grown = System.Diagnostics.Process.GetCurrentProcess().PeakWorkingSet64 - before;
        Assert.True(grown < 500_000_000, $"peak working set grew by {grown} bytes");
        Assert.Equal(DeviceType.CPU, get_default_device().type);   // the default device is restored
    }

    [Fact]
    public void OutOfMemoryWhileBuildingIsACheckpointException()
    {
        using var module = new UncheckedWidth();
        var path = SavedWithHParams(module, "{\"width\": 3, \"out_of_memory\": true}");
        var e = Assert.Throws<CheckpointException>(() => UncheckedWidth.LoadFromCheckpoint(path));
        Assert.Equal($"Checkpoint '{path}': building UncheckedWidth from its saved hyperparameters (width=3, out_of_memory=true) failed: simulated", e.Message);
        Assert.IsType<OutOfMemoryException>(e.InnerException);
    }

    [Fact]
    public void SavedHyperparametersOfTheWrongTypeAreACheckpointException()
    {
        using var module = new RangedConv();
        var path = SavedWithHParams(module, "{\"filters\": \"four\"}");
        var e = Assert.Throws<CheckpointException>(() => RangedConv.LoadFromCheckpoint(path));
        Assert.Equal($"Checkpoint '{path}': saved hyperparameters: hyperparameter 'filters' expected a whole number (32-bit), got \"four\".", e.Message);
    }
}
