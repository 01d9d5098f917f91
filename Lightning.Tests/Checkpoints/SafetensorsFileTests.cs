using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json;
using Lightning.Checkpoints;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Lightning.Tests.Checkpoints;

public sealed class SafetensorsFileTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("lightning-ckpt-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string PathFor(string name) => Path.Combine(_dir, name);

    /// <summary>Tiny tensors of several dtypes and shapes, including a scalar, an empty and a non-contiguous one.</summary>
    private static List<(string Name, Tensor Tensor)> SampleTensors()
    {
        var matrix = torch.arange(6, dtype: ScalarType.Float32).reshape(2, 3) * 0.5f;
        return new List<(string, Tensor)>
        {
            ("model.w", matrix),
            ("model.wt", matrix.t()),
            ("model.scalar", torch.tensor(3.25, dtype: ScalarType.Float64)),
            ("model.empty", torch.zeros(0, dtype: ScalarType.Float32)),
            ("optimizer.step", torch.tensor(new long[] { long.MinValue, -1, 42 })),
            ("rng.state", torch.tensor(new byte[] { 0, 7, 255 })),
            ("model.mask", torch.tensor(new[] { true, false, true, true })),
            ("model.half", torch.tensor(new[] { 1.5f, -2f, 1e-3f }).to_type(ScalarType.BFloat16)),
            ("model.param", torch.ones(2, requires_grad: true)),
        };
    }

    private static byte[] BytesOf(Tensor t)
    {
        using var c = t.contiguous();
        return c.bytes.ToArray();
    }

    private static void DisposeAll(IEnumerable<(string Name, Tensor Tensor)> tensors)
    {
        foreach (var (_, t) in tensors)
        {
            t.Dispose();
        }
    }

    private static readonly Dictionary<string, string> Meta = new()
    {
        ["format_version"] = "1",
        ["hparams"] = "{\"lr\":0.1,\"name\":\"ü\"}",
    };

    [Fact]
    public void RoundTripIsBitwiseEqual()
    {
        var tensors = SampleTensors();
        string path = PathFor("a.safetensors");
        SafetensorsFile.Write(path, tensors, Meta);

        var file = SafetensorsFile.Read(path);
        Assert.Equal(Meta, file.Metadata);
        Assert.Equal(tensors.Select(t => t.Name), file.Tensors.Select(e => e.Name));
        var loaded = file.LoadAll();
        try
        {
            for (int i = 0; i < tensors.Count; i++)
            {
                var (name, expected) = tensors[i];
                var actual = loaded[i].Tensor;
                Assert.Equal(name, loaded[i].Name);
                Assert.Equal(expected.dtype, actual.dtype);
                Assert.Equal(expected.shape, actual.shape);
                Assert.Equal(DeviceType.CPU, actual.device_type);
                Assert.Equal(BytesOf(expected), BytesOf(actual));
            }
            Assert.Empty(file.GetEntry("model.scalar").Shape);
            using var single = file.Load("model.wt");
            Assert.Equal(new float[] { 0, 1.5f, 0.5f, 2, 1, 2.5f }, single.data<float>().ToArray());
        }
        finally
        {
            DisposeAll(loaded);
            DisposeAll(tensors);
        }
    }

    [Fact]
    public void WrittenFileFollowsTheSpecAsReadIndependently()
    {
        var tensors = SampleTensors();
        string path = PathFor("spec.safetensors");
        SafetensorsFile.Write(path, tensors, Meta);
        DisposeAll(tensors);

        // A minimal reader written from the format description only.
        byte[] bytes = File.ReadAllBytes(path);
        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        Assert.Equal(0UL, n % 8);
        int dataStart = 8 + (int)n;
        using var json = JsonDocument.Parse(bytes.AsMemory(8, (int)n));
        var ranges = new List<(long Begin, long End)>();
        foreach (var p in json.RootElement.EnumerateObject())
        {
            if (p.Name == "__metadata__")
            {
                Assert.Equal("1", p.Value.GetProperty("format_version").GetString());
                continue;
            }
            var offsets = p.Value.GetProperty("data_offsets");
            ranges.Add((offsets[0].GetInt64(), offsets[1].GetInt64()));
        }
        ranges.Sort();
        long covered = 0;
        foreach (var (begin, end) in ranges)
        {
            Assert.Equal(covered, begin);
            covered = end;
        }
        Assert.Equal(bytes.Length - dataStart, covered);

        var wt = json.RootElement.GetProperty("model.wt");
        Assert.Equal("F32", wt.GetProperty("dtype").GetString());
        Assert.Equal(new long[] { 3, 2 }, wt.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()));
        int at = dataStart + wt.GetProperty("data_offsets")[0].GetInt32();
        var values = Enumerable.Range(0, 6)
            .Select(i => BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(at + 4 * i, 4)));
        // The transpose of [[0, .5, 1], [1.5, 2, 2.5]], row-major.
        Assert.Equal(new[] { 0f, 1.5f, 0.5f, 2f, 1f, 2.5f }, values);
    }

    [Fact]
    public void FailedWriteLeavesTheOldFileAndNoTempFiles()
    {
        string path = PathFor("old.safetensors");
        var tensors = SampleTensors();
        SafetensorsFile.Write(path, tensors, Meta);
        byte[] before = File.ReadAllBytes(path);

        var changed = tensors.Select(t => (t.Name, t.Tensor + 0)).ToList();
        var ex = Assert.Throws<InvalidOperationException>(() => SafetensorsFile.Write(path, changed, null,
            afterTensor: name => { if (name == "optimizer.step") throw new InvalidOperationException("disk on fire"); }));
        Assert.Equal("disk on fire", ex.Message);

        var clash = changed.Append(("model.w", changed[0].Item2)).ToList();
        Assert.Throws<ArgumentException>(() => SafetensorsFile.Write(path, clash, null));

        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Equal(new[] { path }, Directory.GetFiles(_dir));
        DisposeAll(tensors);
        DisposeAll(changed);
    }

    [Fact]
    public void WriteRejectsBadNames()
    {
        using var t = torch.ones(2);
        string path = PathFor("names.safetensors");
        Assert.Throws<ArgumentException>(() => SafetensorsFile.Write(path, new[] { ("", t) }, null));
        Assert.Throws<ArgumentException>(() => SafetensorsFile.Write(path, new[] { ("__metadata__", t) }, null));
        var dup = Assert.Throws<ArgumentException>(() => SafetensorsFile.Write(path, new[] { ("a", t), ("a", t) }, null));
        Assert.Contains("'a'", dup.Message);
        Assert.Empty(Directory.GetFiles(_dir));
    }

    [Fact]
    public void CorruptedFilesGiveCheckpointExceptionOrLoad()
    {
        var tensors = SampleTensors();
        string good = PathFor("good.safetensors");
        SafetensorsFile.Write(good, tensors, Meta);
        DisposeAll(tensors);
        byte[] original = File.ReadAllBytes(good);
        string bad = PathFor("bad.safetensors");

        var cases = new List<(string What, byte[] Bytes)>();
        for (int length = 0; length < original.Length; length++)
        {
            cases.Add(($"truncated to {length}", original[..length]));
        }
        var random = new Random(1234);
        for (int i = 0; i < 300; i++)
        {
            byte[] flipped = (byte[])original.Clone();
            int at = random.Next(flipped.Length);
            flipped[at] ^= (byte)(1 << random.Next(8));
            cases.Add(($"bit flip at {at}", flipped));
        }

        int rejected = 0;
        foreach (var (what, bytes) in cases)
        {
            File.WriteAllBytes(bad, bytes);
            try
            {
                var file = SafetensorsFile.Read(bad);
                DisposeAll(file.LoadAll());
            }
            catch (CheckpointException ex)
            {
                Assert.Contains(bad, ex.Message);
                rejected++;
            }
            catch (Exception ex)
            {
                Assert.Fail($"{what}: {ex.GetType().Name}: {ex.Message}");
            }
        }
        Assert.True(rejected >= original.Length, $"only {rejected} of {cases.Count} corrupt files were rejected");
    }

    /// <summary>Writes a file with the given header text (unpadded) and <paramref name="dataLength"/> zero data bytes.</summary>
    private string WriteRaw(string header, int dataLength, ulong? headerLength = null)
    {
        string path = PathFor("raw.safetensors");
        byte[] json = Encoding.UTF8.GetBytes(header);
        var bytes = new byte[8 + json.Length + dataLength];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, headerLength ?? (ulong)json.Length);
        json.CopyTo(bytes, 8);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private static CheckpointException AssertRejected(string path, params string[] phrases)
    {
        var ex = Assert.Throws<CheckpointException>(() =>
        {
            var file = SafetensorsFile.Read(path);
            DisposeAll(file.LoadAll());
        });
        Assert.Contains(path, ex.Message);
        Assert.Equal(path, ex.FilePath);
        foreach (string phrase in phrases)
        {
            Assert.Contains(phrase, ex.Message);
        }
        return ex;
    }

    [Fact]
    public void FileShorterThanTheLengthPrefixIsTruncated()
    {
        string path = PathFor("short.safetensors");
        File.WriteAllBytes(path, new byte[] { 1, 2, 3 });
        AssertRejected(path, "truncated");
    }

    [Fact]
    public void HeaderRunningPastTheEndIsTruncated() =>
        AssertRejected(WriteRaw("{}", 0, headerLength: 200), "header is truncated");

    [Fact]
    public void HugeHeaderLengthIsRefusedBeforeAllocating() =>
        AssertRejected(WriteRaw("{}", 0, headerLength: ulong.MaxValue - 3), "header length", "too large");

    [Fact]
    public void MissingFileIsACheckpointException() =>
        AssertRejected(PathFor("nope.safetensors"), "does not exist");

    [Theory]
    [InlineData("{\"t\":{\"dtype\":\"Q4\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8, "unknown dtype 'Q4'", "'t'")]
    [InlineData("{\"t\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,100]}}", 8, "out of range", "'t'")]
    [InlineData("{\"t\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8, "shape mismatch", "'t'")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12, "overlap", "'a' and 'b'")]
    [InlineData("{\"a\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[2,4]}}", 4, "gap", "'a'")]
    [InlineData("{\"a\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[0,2]}}", 5, "3 unused bytes")]
    [InlineData("{\"a\":{\"dtype\":\"U8\",\"shape\":[-2],\"data_offsets\":[0,2]}}", 2, "not a non-negative integer", "'a'")]
    [InlineData("{\"a\":{\"dtype\":\"U8\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,2]}}", 2, "too large", "'a'")]
    [InlineData("{\"a\":{\"dtype\":\"F64\",\"shape\":[0,9223372036854775807],\"data_offsets\":[0,0]}}", 0, "too large", "'a'")]
    [InlineData("{\"a\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[2,0]}}", 2, "begin after they end")]
    [InlineData("{\"a\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[0,2.5]}}", 2, "two non-negative integers")]
    [InlineData("{\"a\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[0,2]},\"a\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[0,2]}}", 2, "'a' twice")]
    [InlineData("{\"a\":{\"dtype\":\"U8\",\"shape\":[1]}}", 1, "'data_offsets'")]
    [InlineData("{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1],\"x\":1}}", 1, "unexpected field 'x'")]
    [InlineData("{\"__metadata__\":{\"k\":1}}", 0, "must be a string")]
    [InlineData("{\"__metadata__\":[]}", 0, "must be an object")]
    [InlineData("[1,2]", 0, "not a JSON object")]
    [InlineData("{\"a\":", 0, "not valid JSON")]
    [InlineData("{\"\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1, "empty name")]
    public void BadHeaderIsRejected(string header, int dataLength, string phrase, string? tensor = null)
    {
        string path = WriteRaw(header, dataLength);
        AssertRejected(path, tensor is null ? new[] { phrase } : new[] { phrase, tensor });
    }

    [Fact]
    public void InvalidUtf8HeaderIsRejected()
    {
        string path = PathFor("utf8.safetensors");
        byte[] bytes = { 4, 0, 0, 0, 0, 0, 0, 0, (byte)'{', 0xC3, 0x28, (byte)'}' };
        File.WriteAllBytes(path, bytes);
        AssertRejected(path, "not valid UTF-8");
    }

    [Fact]
    public void BoolBytesOtherThanZeroOrOneAreRejected()
    {
        string path = WriteRaw("{\"m\":{\"dtype\":\"BOOL\",\"shape\":[2],\"data_offsets\":[0,2]}}", 2);
        byte[] bytes = File.ReadAllBytes(path);
        bytes[^1] = 2;
        File.WriteAllBytes(path, bytes);
        AssertRejected(path, "'m'", "other than 0 and 1");
    }

    [Fact]
    public void EmptyTensorWithAHugeOtherDimensionLoads()
    {
        string path = WriteRaw("{\"e\":{\"dtype\":\"U8\",\"shape\":[0,4611686018427387904],\"data_offsets\":[0,0]}}", 0);
        using var e = SafetensorsFile.Read(path).Load("e");
        Assert.Equal(new long[] { 0, 4611686018427387904 }, e.shape);
    }

    [Fact]
    public void EmptyCheckpointAndUnknownNames()
    {
        string path = PathFor("empty.safetensors");
        SafetensorsFile.Write(path, Array.Empty<(string, Tensor)>(), null);
        var file = SafetensorsFile.Read(path);
        Assert.Empty(file.Tensors);
        Assert.Empty(file.Metadata);
        Assert.Empty(file.LoadAll());
        var ex = Assert.Throws<CheckpointException>(() => file.Load("model.w"));
        Assert.Contains("no tensor named 'model.w'", ex.Message);
    }
}
