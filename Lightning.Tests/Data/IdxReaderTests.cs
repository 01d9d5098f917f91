using System;
using System.Buffers.Binary;
using System.IO;
using System.IO.Compression;
using System.Linq;
using Lightning.Data;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Lightning.Tests.Data;

/// <summary>Writes small IDX files for the data tests.</summary>
internal static class IdxTestFiles
{
    /// <summary>An IDX file: the header for <paramref name="type"/> and <paramref name="dims"/>, then <paramref name="data"/> as given.</summary>
    public static byte[] Encode(byte type, int[] dims, byte[] data)
    {
        var bytes = new byte[4 + 4 * dims.Length + data.Length];
        bytes[2] = type;
        bytes[3] = (byte)dims.Length;
        for (int i = 0; i < dims.Length; i++)
        {
            BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(4 + 4 * i), (uint)dims[i]);
        }
        data.CopyTo(bytes, 4 + 4 * dims.Length);
        return bytes;
    }

    /// <summary>Writes <paramref name="content"/> to <paramref name="path"/>, gzip-compressed if asked.</summary>
    public static void Write(string path, byte[] content, bool gzip)
    {
        if (!gzip)
        {
            File.WriteAllBytes(path, content);
            return;
        }
        using var file = File.Create(path);
        using var compressed = new GZipStream(file, CompressionLevel.Fastest);
        compressed.Write(content);
    }

    /// <summary>A fresh empty directory under the temp directory.</summary>
    public static string NewTempDir()
    {
        string dir = Path.Combine(Path.GetTempPath(), "lightning-data-tests-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        return dir;
    }
}

public sealed class IdxReaderTests : IDisposable
{
    private readonly string _dir = IdxTestFiles.NewTempDir();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string WriteFile(string name, byte[] content, bool gzip = false)
    {
        string path = Path.Combine(_dir, name);
        IdxTestFiles.Write(path, content, gzip);
        return path;
    }

    // The file names deliberately lie about compression: gzip is detected by its magic bytes.
    [Theory]
    [InlineData(false, "plain.gz")]
    [InlineData(true, "compressed.idx")]
    public void ReadsUInt8ThreeDimensional(bool gzip, string name)
    {
        byte[] data = Enumerable.Range(0, 24).Select(i => (byte)(i * 10)).ToArray();
        string path = WriteFile(name, IdxTestFiles.Encode(0x08, [2, 3, 4], data), gzip);

        IdxArray array = IdxReader.Read(path);
        Assert.Equal(IdxElementType.UInt8, array.ElementType);
        Assert.Equal(new long[] { 2, 3, 4 }, array.Shape);
        Assert.Equal(24, array.ElementCount);

        using Tensor tensor = array.ToTensor();
        Assert.Equal(ScalarType.Byte, tensor.dtype);
        Assert.Equal(new long[] { 2, 3, 4 }, tensor.shape);
        Assert.Equal(data, tensor.data<byte>().ToArray());
        Assert.Equal(230, tensor[1, 2, 3].item<byte>());
    }

    [Fact]
    public void ReadsBigEndianFloat32()
    {
        float[] values = [1.5f, -2.25f, 3e10f, float.Epsilon, 0f, -0.1f];
        var data = new byte[values.Length * 4];
        for (int i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteSingleBigEndian(data.AsSpan(4 * i), values[i]);
        }
        string path = WriteFile("floats.idx.gz", IdxTestFiles.Encode(0x0D, [3, 2], data), gzip: true);

        using Tensor tensor = IdxReader.ReadTensor(path);
        Assert.Equal(ScalarType.Float32, tensor.dtype);
        Assert.Equal(new long[] { 3, 2 }, tensor.shape);
        Assert.Equal(values, tensor.data<float>().ToArray());
    }

    [Fact]
    public void ReadsBigEndianInt32Int16AndFloat64()
    {
        int[] ints = [-1, 0x01020304, int.MinValue, int.MaxValue];
        var intData = new byte[16];
        for (int i = 0; i < ints.Length; i++)
        {
            BinaryPrimitives.WriteInt32BigEndian(intData.AsSpan(4 * i), ints[i]);
        }
        short[] shorts = [-2, 0x0102, short.MinValue];
        var shortData = new byte[6];
        for (int i = 0; i < shorts.Length; i++)
        {
            BinaryPrimitives.WriteInt16BigEndian(shortData.AsSpan(2 * i), shorts[i]);
        }
        double[] doubles = [Math.PI, -1e300];
        var doubleData = new byte[16];
        for (int i = 0; i < doubles.Length; i++)
        {
            BinaryPrimitives.WriteDoubleBigEndian(doubleData.AsSpan(8 * i), doubles[i]);
        }

        using Tensor intTensor = IdxReader.ReadTensor(WriteFile("ints", IdxTestFiles.Encode(0x0C, [4], intData)));
        using Tensor shortTensor = IdxReader.ReadTensor(WriteFile("shorts", IdxTestFiles.Encode(0x0B, [3], shortData)));
        using Tensor doubleTensor = IdxReader.ReadTensor(WriteFile("doubles", IdxTestFiles.Encode(0x0E, [1, 2], doubleData)));

        Assert.Equal(ScalarType.Int32, intTensor.dtype);
        Assert.Equal(ints, intTensor.data<int>().ToArray());
        Assert.Equal(ScalarType.Int16, shortTensor.dtype);
        Assert.Equal(shorts, shortTensor.data<short>().ToArray());
        Assert.Equal(ScalarType.Float64, doubleTensor.dtype);
        Assert.Equal(new long[] { 1, 2 }, doubleTensor.shape);
        Assert.Equal(doubles, doubleTensor.data<double>().ToArray());
    }

    [Fact]
    public void ReadsSignedBytes()
    {
        string path = WriteFile("sbytes", IdxTestFiles.Encode(0x09, [3], [0xFF, 0x80, 0x7F]));
        using Tensor tensor = IdxReader.ReadTensor(path);
        Assert.Equal(ScalarType.Int8, tensor.dtype);
        Assert.Equal(new sbyte[] { -1, -128, 127 }, tensor.data<sbyte>().ToArray());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void TruncatedFileNamesDeclaredAndPresentBytes(bool gzip)
    {
        byte[] content = IdxTestFiles.Encode(0x08, [2, 3, 4], new byte[20]);
        string path = WriteFile("truncated", content, gzip);

        var e = Assert.Throws<LightningException>(() => IdxReader.Read(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("truncated", e.Message);
        Assert.Contains("declares 24 data bytes", e.Message);
        Assert.Contains("20 are present", e.Message);
    }

    [Fact]
    public void CutGzipFileIsRejected()
    {
        var random = new Random(1);
        var data = new byte[4000];
        random.NextBytes(data);
        string whole = WriteFile("whole.gz", IdxTestFiles.Encode(0x08, [4000], data), gzip: true);
        byte[] compressed = File.ReadAllBytes(whole);
        string path = WriteFile("cut.gz", compressed.AsSpan(0, compressed.Length / 2).ToArray());

        var e = Assert.Throws<LightningException>(() => IdxReader.Read(path));
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void TruncatedHeaderIsRejected()
    {
        byte[] content = IdxTestFiles.Encode(0x08, [2, 3, 4], []).AsSpan(0, 10).ToArray();
        string path = WriteFile("short-header", content);

        var e = Assert.Throws<LightningException>(() => IdxReader.Read(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("16-byte header", e.Message);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void TrailingBytesAreRejected(bool gzip)
    {
        string path = WriteFile("trailing", IdxTestFiles.Encode(0x08, [4], new byte[7]), gzip);

        var e = Assert.Throws<LightningException>(() => IdxReader.Read(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("declares 4 data bytes", e.Message);
        Assert.Contains("7 are present", e.Message);
    }

    [Fact]
    public void BadMagicIsRejected()
    {
        byte[] content = IdxTestFiles.Encode(0x08, [2], [1, 2]);
        content[0] = 0x50;
        string path = WriteFile("bad-magic", content);

        var e = Assert.Throws<LightningException>(() => IdxReader.Read(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("magic", e.Message);
    }

    [Fact]
    public void UnknownTypeCodeIsRejected()
    {
        string path = WriteFile("bad-type", IdxTestFiles.Encode(0x0A, [2], [1, 2]));

        var e = Assert.Throws<LightningException>(() => IdxReader.Read(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("0x0A", e.Message);
    }

    [Fact]
    public void ZeroDimensionsAreRejected()
    {
        string path = WriteFile("no-dims", IdxTestFiles.Encode(0x08, [], [1]));

        var e = Assert.Throws<LightningException>(() => IdxReader.Read(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("zero dimensions", e.Message);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void OversizedDeclarationIsRejectedBeforeAllocating(bool gzip)
    {
        // 2^32-1 cubed doubles: overflows a long; the file itself is tiny.
        string path = WriteFile("huge", IdxTestFiles.Encode(0x0E, [-1, -1, -1], new byte[8]), gzip);

        var e = Assert.Throws<LightningException>(() => IdxReader.Read(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("limit", e.Message);
    }

    [Fact]
    public void MissingFileNamesThePath()
    {
        string path = Path.Combine(_dir, "does-not-exist-idx1-ubyte.gz");

        var e = Assert.Throws<LightningException>(() => IdxReader.Read(path));
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void EmptyDimensionGivesAnEmptyTensor()
    {
        string path = WriteFile("empty", IdxTestFiles.Encode(0x0C, [0, 5], []));

        using Tensor tensor = IdxReader.ReadTensor(path);
        Assert.Equal(new long[] { 0, 5 }, tensor.shape);
        Assert.Equal(ScalarType.Int32, tensor.dtype);
    }
}
