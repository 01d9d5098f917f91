using System;
using System.Linq;
using System.Text.Json;
using Xunit;

namespace Lightning.Tests.Runtime;

public sealed class HyperParameterJsonTests
{
    private const string Source = "hparams.json";

    /// <summary>Runs <paramref name="read"/> on the single property of <paramref name="json"/>.</summary>
    private static T Read<T>(string json, Func<JsonProperty, string, T> read)
    {
        using var doc = JsonDocument.Parse(json);
        return read(doc.RootElement.EnumerateObject().Single(), Source);
    }

    private static LightningException Fails<T>(string json, Func<JsonProperty, string, T> read) =>
        Assert.Throws<LightningException>(() => Read(json, read));

    [Theory]
    [InlineData("{")]
    [InlineData("")]
    [InlineData("{\"lr\": }")]
    [InlineData("lr = 0.1")]
    public void InvalidJsonNamesTheSource(string json)
    {
        var e = Assert.Throws<LightningException>(() => HyperParameterJson.ParseObject(json, "config/train.json"));
        Assert.StartsWith("config/train.json: not valid JSON", e.Message);
        Assert.IsAssignableFrom<JsonException>(e.InnerException);
    }

    [Fact]
    public void ObjectParses()
    {
        using var doc = HyperParameterJson.ParseObject("{\"lr\": 0.001, \"epochs\": 3}", Source);
        Assert.Equal(JsonValueKind.Object, doc.RootElement.ValueKind);
        Assert.Equal(2, doc.RootElement.EnumerateObject().Count());
    }

    [Fact]
    public void ReadersAcceptTheirKinds()
    {
        Assert.True(Read("{\"shuffle\": true}", HyperParameterJson.ReadBoolean));
        Assert.False(Read("{\"shuffle\": false}", HyperParameterJson.ReadBoolean));
        Assert.Equal(64, Read("{\"batch_size\": 64}", HyperParameterJson.ReadInt32));
        Assert.Equal(5_000_000_000L, Read("{\"steps\": 5000000000}", HyperParameterJson.ReadInt64));
        Assert.Equal(0.5f, Read("{\"p\": 0.5}", HyperParameterJson.ReadSingle));
        Assert.Equal(3e-4, Read("{\"lr\": 3e-4}", HyperParameterJson.ReadDouble));
        Assert.Equal(2.0, Read("{\"lr\": 2}", HyperParameterJson.ReadDouble));
        Assert.Equal("adam", Read("{\"opt\": \"adam\"}", HyperParameterJson.ReadString));
    }

    [Fact]
    public void ReadBooleanRejectsOtherKinds()
    {
        var e = Fails("{\"shuffle\": 1}", HyperParameterJson.ReadBoolean);
        Assert.Equal("hparams.json: hyperparameter 'shuffle' expected true or false, got 1.", e.Message);
        Fails("{\"shuffle\": \"true\"}", HyperParameterJson.ReadBoolean);
    }

    [Theory]
    [InlineData("1.5")]
    [InlineData("\"64\"")]
    [InlineData("3000000000")]
    [InlineData("null")]
    public void ReadInt32RejectsOtherValues(string value)
    {
        var e = Fails("{\"batch_size\": " + value + "}", HyperParameterJson.ReadInt32);
        Assert.Contains("'batch_size'", e.Message);
        Assert.Contains("a whole number (32-bit)", e.Message);
        Assert.StartsWith(Source + ":", e.Message);
    }

    [Fact]
    public void ReadInt64RejectsFractions()
    {
        var e = Fails("{\"steps\": 2.5}", HyperParameterJson.ReadInt64);
        Assert.Contains("'steps'", e.Message);
        Assert.Contains("a whole number (64-bit)", e.Message);
    }

    [Fact]
    public void ReadDoubleAndSingleRejectStrings()
    {
        var d = Fails("{\"lr\": \"0.1\"}", HyperParameterJson.ReadDouble);
        Assert.Equal("hparams.json: hyperparameter 'lr' expected a number, got \"0.1\".", d.Message);
        var f = Fails("{\"p\": [0.5]}", HyperParameterJson.ReadSingle);
        Assert.Contains("'p'", f.Message);
        Assert.Contains("a number", f.Message);
    }

    [Fact]
    public void ReadStringRejectsNumbers()
    {
        var e = Fails("{\"opt\": 3}", HyperParameterJson.ReadString);
        Assert.Contains("'opt'", e.Message);
        Assert.Contains("a string", e.Message);
    }

    [Fact]
    public void LongRawValuesAreShortened()
    {
        var e = Fails("{\"opt\": \"" + new string('x', 100) + "\"}", HyperParameterJson.ReadDouble);
        Assert.Contains("got \"" + new string('x', 39) + "...", e.Message);
        Assert.DoesNotContain(new string('x', 41), e.Message);
    }

    [Theory]
    [InlineData("KeepHeap", AllocatorPolicy.KeepHeap)]
    [InlineData("keepheap", AllocatorPolicy.KeepHeap)]
    [InlineData("TOPPAD", AllocatorPolicy.TopPad)]
    [InlineData("none", AllocatorPolicy.None)]
    public void ReadEnumIsCaseInsensitive(string name, AllocatorPolicy expected)
    {
        Assert.Equal(expected, Read("{\"allocator\": \"" + name + "\"}", HyperParameterJson.ReadEnum<AllocatorPolicy>));
    }

    [Theory]
    [InlineData("\"Fastest\"")]
    [InlineData("\"\"")]
    [InlineData("1")]
    [InlineData("\"KeepHeap, TopPad\"")]
    [InlineData("\"1\"")]
    public void ReadEnumRejectsUnknownNames(string value)
    {
        var e = Fails("{\"allocator\": " + value + "}", HyperParameterJson.ReadEnum<AllocatorPolicy>);
        Assert.Contains("'allocator'", e.Message);
        Assert.Contains("one of Recommended, None, TrimAndMmapThreshold, TopPad, KeepHeap", e.Message);
    }

    [Theory]
    [InlineData("[1, 2]", "Array")]
    [InlineData("3", "Number")]
    [InlineData("\"lr\"", "String")]
    [InlineData("null", "Null")]
    public void NonObjectJsonNamesTheSourceAndTheKind(string json, string kind)
    {
        var e = Assert.Throws<LightningException>(() => HyperParameterJson.ParseObject(json, "--config"));
        Assert.StartsWith("--config: expected a JSON object", e.Message);
        Assert.Contains(kind, e.Message);
    }

    [Fact]
    public void UnknownNamesTheHyperparameterAndTheChoices()
    {
        var e = HyperParameterJson.Unknown(Source, "learning_rat", "learning_rate, batch_size");
        Assert.Equal("hparams.json: unknown hyperparameter 'learning_rat'; expected one of: learning_rate, batch_size.", e.Message);
    }
}
