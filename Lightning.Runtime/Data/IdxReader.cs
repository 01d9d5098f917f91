using System;
using System.Buffers.Binary;
using System.Globalization;
using System.IO;
using System.IO.Compression;
using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace Lightning.Data;

/// <summary>The element type of an IDX file; each value is the type byte the file's header holds.</summary>
public enum IdxElementType : byte
{
    /// <summary>Unsigned byte (0x08), the type of MNIST images and labels.</summary>
    UInt8 = 0x08,
    /// <summary>Signed byte (0x09).</summary>
    Int8 = 0x09,
    /// <summary>Big-endian 16-bit integer (0x0B).</summary>
    Int16 = 0x0B,
    /// <summary>Big-endian 32-bit integer (0x0C).</summary>
    Int32 = 0x0C,
    /// <summary>Big-endian 32-bit float (0x0D).</summary>
    Float32 = 0x0D,
    /// <summary>Big-endian 64-bit float (0x0E).</summary>
    Float64 = 0x0E,
}

/// <summary>
/// The contents of one IDX file: its shape, element type and raw (big-endian) data. Holds no native memory;
/// <see cref="ToTensor"/> makes a tensor from it.
/// </summary>
public sealed class IdxArray
{
    private readonly byte[] _data;

    internal IdxArray(string path, IdxElementType elementType, long[] shape, byte[] data)
    {
        Path = path;
        ElementType = elementType;
        Shape = shape;
        _data = data;
    }

    /// <summary>The file this array was read from.</summary>
    public string Path { get; }

    /// <summary>The element type the header declares.</summary>
    public IdxElementType ElementType { get; }

    /// <summary>The size of each dimension, outermost first (e.g. <c>[60000, 28, 28]</c> for MNIST images).</summary>
    public long[] Shape { get; }

    /// <summary>The number of elements: the product of <see cref="Shape"/>.</summary>
    public long ElementCount => _data.LongLength / IdxReader.ElementSize(ElementType);

    /// <summary>The TorchSharp dtype <see cref="ToTensor"/> produces.</summary>
    public ScalarType ScalarType => ElementType switch {
        IdxElementType.UInt8 => ScalarType.Byte,
        IdxElementType.Int8 => ScalarType.Int8,
        IdxElementType.Int16 => ScalarType.Int16,
        IdxElementType.Int32 => ScalarType.Int32,
        IdxElementType.Float32 => ScalarType.Float32,
        _ => ScalarType.Float64,
    };

    /// <summary>
    /// Makes a new CPU tensor of <see cref="Shape"/> and <see cref="ScalarType"/> holding the data (multi-byte
    /// values converted from big-endian). Each call makes a fresh tensor that belongs to the caller.
    /// </summary>
    public Tensor ToTensor()
    {
        var tensor = torch.empty(Shape, ScalarType);
        if (_data.Length == 0)
        {
            return tensor;
        }

        Span<byte> destination = tensor.bytes;
        ReadOnlySpan<byte> source = _data;
        if (!BitConverter.IsLittleEndian)
        {
            source.CopyTo(destination);
            return tensor;
        }

        switch (IdxReader.ElementSize(ElementType))
        {
            case 1:
                source.CopyTo(destination);
                break;
            case 2:
                BinaryPrimitives.ReverseEndianness(MemoryMarshal.Cast<byte, short>(source), MemoryMarshal.Cast<byte, short>(destination));
                break;
            case 4:
                BinaryPrimitives.ReverseEndianness(MemoryMarshal.Cast<byte, int>(source), MemoryMarshal.Cast<byte, int>(destination));
                break;
            default:
                BinaryPrimitives.ReverseEndianness(MemoryMarshal.Cast<byte, long>(source), MemoryMarshal.Cast<byte, long>(destination));
                break;
        }
        return tensor;
    }
}

/// <summary>
/// Reads IDX files, the format of MNIST and Fashion-MNIST: two zero bytes, a type byte, a dimension-count byte,
/// one big-endian uint32 per dimension, then the data. Files may be plain or gzip-compressed (detected by the
/// gzip magic bytes, not by the file name). The header is validated before any data buffer is allocated, and
/// the whole data is read into one buffer.
/// </summary>
public static class IdxReader
{
    /// <summary>The largest data section accepted, in bytes (1 GiB; MNIST's largest file holds 47 MB).</summary>
    public const long MaxDataBytes = 1L << 30;

    /// <summary>Reads <paramref name="path"/> and returns its data as a new tensor (see <see cref="IdxArray.ToTensor"/>).</summary>
    /// <exception cref="LightningException">The file is missing, unreadable, or not a valid IDX file.</exception>
    public static Tensor ReadTensor(string path) => Read(path).ToTensor();

    /// <summary>Reads and validates <paramref name="path"/>.</summary>
    /// <exception cref="LightningException">
    /// The file is missing or unreadable, its magic or type byte is wrong, it declares no dimensions or more data
    /// than <see cref="MaxDataBytes"/>, or it holds fewer or more data bytes than its header declares.
    /// </exception>
    public static IdxArray Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path))
        {
            throw new LightningException($"IDX file '{path}' does not exist.");
        }

        try
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16);
            Span<byte> magic = stackalloc byte[2];
            int magicRead = file.ReadAtLeast(magic, 2, throwOnEndOfStream: false);
            file.Position = 0;
            if (magicRead == 2 && magic[0] == 0x1f && magic[1] == 0x8b)
            {
                using var gzip = new GZipStream(file, CompressionMode.Decompress);
                return ReadIdx(path, gzip, remainingLength: null);
            }
            return ReadIdx(path, file, remainingLength: file.Length);
        }
        catch (IOException e)
        {
            throw new LightningException($"IDX file '{path}': cannot be read: {e.Message}", e);
        }
        catch (InvalidDataException e)
        {
            throw new LightningException($"IDX file '{path}': invalid gzip data: {e.Message}", e);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new LightningException($"IDX file '{path}': access denied: {e.Message}", e);
        }
    }

    /// <summary>The size in bytes of one element of <paramref name="type"/>.</summary>
    public static int ElementSize(IdxElementType type) => type switch {
        IdxElementType.UInt8 or IdxElementType.Int8 => 1,
        IdxElementType.Int16 => 2,
        IdxElementType.Int32 or IdxElementType.Float32 => 4,
        IdxElementType.Float64 => 8,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "Not an IDX element type."),
    };

    /// <summary>
    /// Parses an IDX stream. <paramref name="remainingLength"/> is the stream's length when known (plain files),
    /// so a truncated file is rejected before the data buffer is allocated.
    /// </summary>
    private static IdxArray ReadIdx(string path, Stream stream, long? remainingLength)
    {
        Span<byte> prefix = stackalloc byte[4];
        int prefixRead = stream.ReadAtLeast(prefix, 4, throwOnEndOfStream: false);
        if (prefixRead < 4)
        {
            throw Error(path, $"truncated header: an IDX header needs at least 4 bytes, the file holds {prefixRead}.");
        }
        if (prefix[0] != 0 || prefix[1] != 0)
        {
            throw Error(path, $"bad magic: the first two bytes are 0x{prefix[0]:X2} 0x{prefix[1]:X2}, expected 0x00 0x00 (not an IDX file?).");
        }

        var type = (IdxElementType)prefix[2];
        if (!Enum.IsDefined(type))
        {
            throw Error(path, $"unknown element type code 0x{prefix[2]:X2} (expected 0x08, 0x09, 0x0B, 0x0C, 0x0D or 0x0E).");
        }

        int rank = prefix[3];
        if (rank == 0)
        {
            throw Error(path, "the header declares zero dimensions.");
        }

        Span<byte> dims = stackalloc byte[4 * rank];
        int dimsRead = stream.ReadAtLeast(dims, dims.Length, throwOnEndOfStream: false);
        int headerBytes = 4 + dims.Length;
        if (dimsRead < dims.Length)
        {
            throw Error(path, $"truncated header: {rank} dimensions need a {headerBytes}-byte header, the file holds {4 + dimsRead} bytes.");
        }

        var shape = new long[rank];
        for (int i = 0; i < rank; i++)
        {
            shape[i] = BinaryPrimitives.ReadUInt32BigEndian(dims.Slice(4 * i, 4));
        }

        long dataBytes = DeclaredDataBytes(path, shape, ElementSize(type));
        if (remainingLength is long length && length - headerBytes != dataBytes)
        {
            throw SizeMismatch(path, shape, type, dataBytes, length - headerBytes);
        }

        var data = new byte[dataBytes];
        int dataRead = stream.ReadAtLeast(data, data.Length, throwOnEndOfStream: false);
        if (dataRead < data.Length)
        {
            throw SizeMismatch(path, shape, type, dataBytes, dataRead);
        }
        if (remainingLength is null)
        {
            long trailing = CountRemaining(stream);
            if (trailing > 0)
            {
                throw SizeMismatch(path, shape, type, dataBytes, dataBytes + trailing);
            }
        }
        return new IdxArray(path, type, shape, data);
    }

    /// <summary>The product of the dimensions times the element size, rejecting overflow and sizes above <see cref="MaxDataBytes"/>.</summary>
    private static long DeclaredDataBytes(string path, long[] shape, int elementSize)
    {
        if (Array.IndexOf(shape, 0L) >= 0)
        {
            return 0;
        }

        long bytes = elementSize;
        foreach (long dim in shape)
        {
            // Every dim is at most uint.MaxValue and bytes at most MaxDataBytes, so this never overflows a long
            // before the check below stops it.
            if (dim > MaxDataBytes / bytes)
            {
                throw Error(path, $"the header declares shape [{FormatShape(shape)}], more than the {MaxDataBytes}-byte limit (or a corrupt header).");
            }
            bytes *= dim;
        }
        return bytes;
    }

    /// <summary>Reads and counts what is left of a stream of unknown length.</summary>
    private static long CountRemaining(Stream stream)
    {
        var scratch = new byte[4096];
        long total = 0;
        int read;
        while ((read = stream.Read(scratch, 0, scratch.Length)) > 0)
        {
            total += read;
        }
        return total;
    }

    private static LightningException SizeMismatch(string path, long[] shape, IdxElementType type, long declared, long present)
    {
        string problem = present < declared ? "truncated" : "has trailing bytes";
        return Error(path, $"{problem}: the header declares {declared} data bytes (shape [{FormatShape(shape)}] of {type}) but {present} are present.");
    }

    private static string FormatShape(long[] shape) => string.Join(", ", Array.ConvertAll(shape, d => d.ToString(CultureInfo.InvariantCulture)));

    private static LightningException Error(string path, string problem) => new($"IDX file '{path}': {problem}");
}
