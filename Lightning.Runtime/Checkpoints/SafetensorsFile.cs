using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using TorchSharp;
using static TorchSharp.torch;

namespace Lightning.Checkpoints;

/// <summary>
/// A file in the safetensors layout: an 8-byte little-endian header length N, N bytes of UTF-8 JSON header
/// (tensor name -> dtype, shape, data_offsets; optional <c>__metadata__</c> string map), then the tensors'
/// raw little-endian row-major bytes, stored back to back. <see cref="Read"/> validates the whole header
/// before anything is allocated; loading is plain parsing and never executes code.
/// </summary>
public sealed partial class SafetensorsFile
{
    /// <summary>The largest header accepted (the reference implementation's limit).</summary>
    public const long MaxHeaderLength = 100_000_000;

    /// <summary>Bytes moved per read or write call when streaming tensor data.</summary>
    private const int CopyBufferSize = 1 << 16;

    private readonly Dictionary<string, SafetensorsEntry> _byName;
    private readonly long _fileLength;

    private SafetensorsFile(
        string path, Dictionary<string, string> metadata, List<SafetensorsEntry> entries, long dataStart, long fileLength)
    {
        Path = path;
        Metadata = metadata;
        Tensors = entries;
        DataStart = dataStart;
        _fileLength = fileLength;
        _byName = entries.ToDictionary(e => e.Name, StringComparer.Ordinal);
    }

    /// <summary>The file this header was read from.</summary>
    public string Path { get; }

    /// <summary>The <c>__metadata__</c> map; empty when the file has none.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>The tensors, in the order their bytes appear in the data section.</summary>
    public IReadOnlyList<SafetensorsEntry> Tensors { get; }

    /// <summary>The file offset of the data section (8 + header length).</summary>
    public long DataStart { get; }

    /// <summary>Whether the file holds a tensor called <paramref name="name"/>.</summary>
    public bool Contains(string name) => _byName.ContainsKey(name);

    /// <summary>The entry of the tensor called <paramref name="name"/>.</summary>
    /// <exception cref="CheckpointException">The file has no such tensor.</exception>
    public SafetensorsEntry GetEntry(string name) =>
        _byName.TryGetValue(name, out var entry)
            ? entry
            : throw new CheckpointException(Path, $"there is no tensor named '{name}'");

    /// <summary>
    /// Reads and validates the header of <paramref name="path"/>. Tensor data is not read until
    /// <see cref="Load"/> or <see cref="LoadAll"/>.
    /// </summary>
    /// <exception cref="CheckpointException">The file is missing, unreadable or not a valid safetensors file.</exception>
    public static SafetensorsFile Read(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        EnsureLittleEndian();
        if (Directory.Exists(path)) throw new CheckpointException(path, "it is a folder, not a checkpoint file");
        if (!File.Exists(path)) throw new CheckpointException(path, "the file does not exist");
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
            long fileLength = stream.Length;
            if (fileLength < 8)
            {
                throw new CheckpointException(path,
                    $"the file is truncated: it has {fileLength} bytes, too few for the 8-byte header length");
            }
            Span<byte> prefix = stackalloc byte[8];
            stream.ReadExactly(prefix);
            ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
            if (headerLength > MaxHeaderLength)
            {
                throw new CheckpointException(path,
                    $"the header length {headerLength} is too large (the limit is {MaxHeaderLength} bytes); " +
                    "this is not a safetensors file or it is corrupt");
            }
            if ((long)headerLength > fileLength - 8)
            {
                throw new CheckpointException(path,
                    $"the header is truncated: its length is {headerLength} bytes but only {fileLength - 8} bytes follow");
            }
            var header = new byte[headerLength];
            stream.ReadExactly(header);
            long dataStart = 8 + (long)headerLength;
            var (metadata, entries) = SafetensorsHeader.Parse(path, header, fileLength - dataStart);
            return new SafetensorsFile(path, metadata, entries, dataStart, fileLength);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new CheckpointException(path, $"could not be read: {ex.Message}", ex);
        }
    }

    /// <summary>Loads the tensor called <paramref name="name"/> as a new CPU tensor (the caller disposes it).</summary>
    /// <exception cref="CheckpointException">No such tensor, the file changed, or its data is invalid.</exception>
    public Tensor Load(string name)
    {
        var entry = GetEntry(name);
        return WithData(stream => LoadEntry(stream, entry));
    }

    /// <summary>Loads every tensor, in file order, as new CPU tensors (the caller disposes them).</summary>
    /// <exception cref="CheckpointException">The file changed or its data is invalid; nothing is returned then.</exception>
    public IReadOnlyList<(string Name, Tensor Tensor)> LoadAll() => WithData(stream =>
    {
        var loaded = new List<(string Name, Tensor Tensor)>(Tensors.Count);
        try
        {
            foreach (var entry in Tensors)
            {
                loaded.Add((entry.Name, LoadEntry(stream, entry)));
            }
            return loaded;
        }
        catch
        {
            foreach (var (_, tensor) in loaded)
            {
                tensor.Dispose();
            }
            throw;
        }
    });

    /// <summary>Opens the file, checks it still has the length seen by <see cref="Read"/>, and runs <paramref name="body"/>.</summary>
    private T WithData<T>(Func<FileStream, T> body)
    {
        try
        {
            using var stream = new FileStream(Path, FileMode.Open, FileAccess.Read, FileShare.Read, CopyBufferSize);
            if (stream.Length != _fileLength)
            {
                throw new CheckpointException(Path,
                    $"the file changed since its header was read ({_fileLength} bytes then, {stream.Length} now)");
            }
            return body(stream);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new CheckpointException(Path, $"could not be read: {ex.Message}", ex);
        }
    }

    private Tensor LoadEntry(FileStream stream, SafetensorsEntry entry)
    {
        // Bool bytes are read as U8 first so that values other than 0 and 1 can be refused.
        bool isBool = entry.ScalarType == ScalarType.Bool;
        var tensor = torch.empty(entry.Shape.ToArray(), isBool ? ScalarType.Byte : entry.ScalarType);
        try
        {
            stream.Position = DataStart + entry.Begin;
            tensor.ReadBytesFromStream(stream, CopyBufferSize);
            if (!isBool)
            {
                return tensor;
            }
            using (var above = tensor.gt(1))
            using (var any = above.any())
            {
                if (any.item<bool>())
                {
                    throw new CheckpointException(Path, $"tensor '{entry.Name}': a BOOL tensor holds bytes other than 0 and 1");
                }
            }
            var result = tensor.to_type(ScalarType.Bool);
            tensor.Dispose();
            return result;
        }
        catch
        {
            tensor.Dispose();
            throw;
        }
    }

    /// <summary>The format is little-endian and tensor bytes are copied as they are in memory.</summary>
    private static void EnsureLittleEndian()
    {
        if (!BitConverter.IsLittleEndian)
        {
            throw new PlatformNotSupportedException("Safetensors checkpoints are only supported on little-endian machines.");
        }
    }
}
