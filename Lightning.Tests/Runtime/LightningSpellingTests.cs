using System;
using System.Linq;
using Lightning.Callbacks;
using Lightning.Cli;
using Xunit;

namespace Lightning.Tests.Runtime;

/// <summary>
/// Lightning's spellings of the option enums: every one of Lightning's reads as its value, each value writes back as its
/// Lightning spelling, and nothing else reads (exact lowercase, as Lightning's flags).
/// </summary>
public sealed class LightningSpellingTests
{
    // The option enums and, for each, every spelling Lightning accepts, read in its source (the mirror's HEAD):
    public static TheoryData<string, Enum> Spellings => new()
    {
        // EarlyStopping.mode_dict = {"min": torch.lt, "max": torch.gt} (src/lightning/pytorch/callbacks/early_stopping.py);
        // ModelCheckpoint.__init_monitor_mode (src/lightning/pytorch/callbacks/model_checkpoint.py).
        { "min", MonitorMode.Min },
        { "max", MonitorMode.Max },
        // class Interval(LightningEnum): step = "step"; epoch = "epoch" (src/lightning/pytorch/callbacks/timer.py), and
        // LearningRateMonitor's logging_interval: Optional[Literal["step", "epoch"]] (src/lightning/pytorch/callbacks/lr_monitor.py),
        // LRSchedulerConfig.interval: "epoch" or "step" (src/lightning/pytorch/utilities/types.py): one enum for all three.
        { "step", Interval.Step },
        { "epoch", Interval.Epoch },
        // _PRECISION_INPUT_STR (less "transformer-engine*") and _PRECISION_INPUT_STR_ALIAS_CONVERSION = {"64": "64-true",
        // "32": "32-true", "16": "16-mixed", "bf16": "bf16-mixed"} (src/lightning/fabric/plugins/precision/precision.py), applied
        // by _convert_precision_to_unified_args (src/lightning/fabric/connector.py) for the Trainer too (accelerator_connector.py).
        { "32-true", TrainingPrecision.Float32 },
        { "64-true", TrainingPrecision.Float64 },
        { "bf16-true", TrainingPrecision.BFloat16 },
        { "16-true", TrainingPrecision.Float16 },
        { "16-mixed", TrainingPrecision.Float16Mixed },
        { "bf16-mixed", TrainingPrecision.BFloat16Mixed },
        { "32", TrainingPrecision.Float32 },
        { "64", TrainingPrecision.Float64 },
        { "16", TrainingPrecision.Float16Mixed },
        { "bf16", TrainingPrecision.BFloat16Mixed },
        // Trainer(strategy="auto") (src/lightning/pytorch/trainer/trainer.py); SingleDeviceStrategy.strategy_name = "single_device"
        // (src/lightning/pytorch/strategies/single_device.py); DDPStrategy registers "ddp" (src/lightning/pytorch/strategies/ddp.py).
        { "auto", Strategy.Auto },
        { "single_device", Strategy.SingleDevice },
        { "ddp", Strategy.Ddp },
        // class GradClipAlgorithmType(LightningEnum): VALUE = "value"; NORM = "norm" (src/lightning/pytorch/utilities/enums.py).
        { "norm", GradientClipAlgorithm.Norm },
        { "value", GradientClipAlgorithm.Value },
        // _Metadata._parse_reduce_fx: "min", "max", "mean", "sum", and "avg" for "mean"
        // (src/lightning/pytorch/trainer/connectors/logger_connector/result.py).
        { "mean", MetricReduction.Mean },
        { "avg", MetricReduction.Mean },
        { "sum", MetricReduction.Sum },
        { "max", MetricReduction.Max },
        { "min", MetricReduction.Min },
    };

    private static readonly Type[] OptionEnums =
    {
        typeof(MonitorMode), typeof(Interval), typeof(TrainingPrecision), typeof(Strategy),
        typeof(GradientClipAlgorithm), typeof(MetricReduction),
    };

    [Theory]
    [MemberData(nameof(Spellings))]
    public void EveryLightningSpellingReadsAsItsValue(string text, Enum expected)
    {
        var spelling = LightningSpelling.Of(expected.GetType())!;
        Assert.True(spelling.TryParse(text, out var value), text);
        Assert.Equal(expected, value);
        // The command line and config files read through the same table.
        Assert.Equal((true, expected), CliParse(expected.GetType(), text));
    }

    [Fact]
    public void ThePublicTryParseOverloadsReadTheSameSpellings()
    {
        Assert.True(LightningSpelling.TryParse("max", out MonitorMode mode));
        Assert.Equal(MonitorMode.Max, mode);
        Assert.True(LightningSpelling.TryParse("bf16-true", out TrainingPrecision precision));
        Assert.Equal(TrainingPrecision.BFloat16, precision);
        Assert.True(LightningSpelling.TryParse("single_device", out Strategy strategy));
        Assert.Equal(Strategy.SingleDevice, strategy);
        Assert.True(LightningSpelling.TryParse("value", out GradientClipAlgorithm clip));
        Assert.Equal(GradientClipAlgorithm.Value, clip);
        Assert.True(LightningSpelling.TryParse("epoch", out Interval interval));
        Assert.Equal(Interval.Epoch, interval);
        Assert.True(LightningSpelling.TryParse("step", out interval));
        Assert.Equal(Interval.Step, interval);
        Assert.True(LightningSpelling.TryParse("avg", out MetricReduction reduction));
        Assert.Equal(MetricReduction.Mean, reduction);
        Assert.False(LightningSpelling.TryParse("Max", out mode));
        Assert.False(LightningSpelling.TryParse(null, out precision));
    }

    [Fact]
    public void EveryValueWritesItsLightningSpellingWhichReadsBack()
    {
        foreach (var type in OptionEnums)
        {
            var spelling = LightningSpelling.Of(type);
            Assert.NotNull(spelling);
            foreach (Enum value in Enum.GetValues(type))
            {
                var text = spelling.Format(value);
                Assert.Equal(text, CliValues.Format(value));                 // config files write the same text
                Assert.True(spelling.TryParse(text, out var back), text);
                Assert.Equal(value, back);
                Assert.Equal(text, text.ToLowerInvariant());                 // Lightning's flags are lowercase
            }
            Assert.Equal(Enum.GetValues(type).Length, spelling.Names.Count);
        }
    }

    [Fact]
    public void TheExtensionMethodsWriteLightningsSpelling()
    {
        Assert.Equal("min", MonitorMode.Min.ToLightningString());
        Assert.Equal("16-mixed", TrainingPrecision.Float16Mixed.ToLightningString());
        Assert.Equal("32-true", default(TrainingPrecision).ToLightningString());      // the default is Lightning's default
        Assert.Equal("single_device", Strategy.SingleDevice.ToLightningString());
        Assert.Equal("value", GradientClipAlgorithm.Value.ToLightningString());
        Assert.Equal("step", Interval.Step.ToLightningString());
        Assert.Equal("epoch", Interval.Epoch.ToLightningString());
        Assert.Equal("mean", MetricReduction.Mean.ToLightningString());
        Assert.Equal("7", ((Strategy)7).ToLightningString());                         // a cast number that names no value
    }

    [Theory]
    [InlineData(typeof(MonitorMode), "Max")]             // the C# name
    [InlineData(typeof(MonitorMode), "MAX")]
    [InlineData(typeof(MonitorMode), " max")]
    [InlineData(typeof(MonitorMode), "1")]               // a number is no spelling
    [InlineData(typeof(TrainingPrecision), "Float32")]
    [InlineData(typeof(TrainingPrecision), "BF16-true")]
    [InlineData(typeof(TrainingPrecision), "transformer-engine")]   // Lightning's, but NVIDIA's Transformer Engine is not for TorchSharp
    [InlineData(typeof(TrainingPrecision), "half")]
    [InlineData(typeof(Strategy), "fsdp")]
    [InlineData(typeof(Strategy), "SingleDevice")]
    [InlineData(typeof(GradientClipAlgorithm), "l2")]
    [InlineData(typeof(Interval), "batch")]
    [InlineData(typeof(MetricReduction), "median")]
    [InlineData(typeof(MetricReduction), "")]
    public void AnythingElseDoesNotRead(Type type, string text)
    {
        Assert.False(LightningSpelling.Of(type)!.TryParse(text, out _));
        Assert.False(CliParse(type, text).Ok);
    }

    [Fact]
    public void TheExpectedTextListsTheSpellings()
    {
        Assert.Equal("\"min\" or \"max\"", CliValues.Describe<MonitorMode>());
        Assert.Equal("\"auto\", \"single_device\" or \"ddp\"", CliValues.Describe<Strategy>());
        Assert.StartsWith("\"32-true\", \"64-true\" or \"bf16-true\"", CliValues.Describe<TrainingPrecision>());
        Assert.Equal("\"norm\" or \"value\" (or null)", CliValues.Describe<GradientClipAlgorithm?>());
    }

    [Fact]
    public void AUsersEnumHasNoSpellingsAndReadsByItsNames()
    {
        Assert.Null(LightningSpelling.Of(typeof(DayOfWeek)));
        Assert.True(CliValues.TryParse<DayOfWeek>("monday", out var day, out _));
        Assert.Equal(DayOfWeek.Monday, day);
        Assert.Equal("Monday", CliValues.Format(DayOfWeek.Monday));
    }

    [Fact]
    public void StateKeysKeepTheTextOfEarlierCheckpoints()
    {
        // Checkpoints written when Mode was the string "max" hold these keys; a resumed fit must find its state under them.
        Assert.Equal("EarlyStopping{monitor=val_acc,mode=max}", new EarlyStopping { Monitor = "val_acc", Mode = MonitorMode.Max }.StateKey);
        Assert.Equal("EarlyStopping{monitor=val_loss,mode=min}", new EarlyStopping { Monitor = "val_loss" }.StateKey);
        Assert.Equal("ModelCheckpoint{monitor=val_acc,mode=max,every_n_train_steps=0,every_n_epochs=1}",
            new ModelCheckpoint { Monitor = "val_acc", Mode = MonitorMode.Max }.StateKey);
        Assert.Equal("ModelCheckpoint{monitor=,mode=min,every_n_train_steps=0,every_n_epochs=1}", new ModelCheckpoint().StateKey);
    }

    /// <summary>What <see cref="CliValues.TryParse{T}"/> (the command line and config files) reads for <paramref name="type"/>.</summary>
    private static (bool Ok, object? Value) CliParse(Type type, string text)
    {
        var method = typeof(CliValues).GetMethod(nameof(CliValues.TryParse))!.MakeGenericMethod(type);
        var args = new object?[] { text, null, null };
        bool ok = (bool)method.Invoke(null, args)!;
        return (ok, ok ? args[1] : null);
    }
}
