using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using static TorchSharp.torch;

namespace Lightning.Checkpoints;

public sealed partial class SafetensorsFile
{
    /// <summary>
    /// Writes <paramref name="tensors"/> (any device, any layout; copied to CPU contiguous one at a time) and
    /// <paramref name="metadata"/> to <paramref name="path"/>, in the given order. The write is atomic and durable:
    /// the bytes go to a temporary file <c>PATH.tmp-GUID</c> in the same directory, are flushed to disk (fsync),
    /// the temporary file is renamed over <paramref name="path"/>, and the directory is flushed (fsync). On any failure the temporary file is deleted and an existing
    /// <paramref name="path"/> is left untouched.
    /// </summary>
    /// <exception cref="ArgumentException">A name is empty, reserved or repeated, a tensor is null, or a dtype is unsupported.</exception>
    /// <exception cref="CheckpointException">The file could not be written.</exception>
    public static void Write(
        string path, IReadOnlyList<(string Name, Tensor Tensor)> tensors, IReadOnlyDictionary<string, string>? metadata) =>
        Write(path, tensors, metadata, afterTensor: null);

    /// <summary>
    /// <see cref="Write(string, IReadOnlyList{ValueTuple{string, Tensor}}, IReadOnlyDictionary{string, string})"/>,
    /// calling <paramref name="afterTensor"/> after each tensor's bytes are written (tests use it to fail midway).
    /// </summary>
    internal static void Write(
        string path,
        IReadOnlyList<(string Name, Tensor Tensor)> tensors,
        IReadOnlyDictionary<string, string>? metadata,
        Action<string>? afterTensor)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(tensors);
        EnsureLittleEndian();

        var entries = Plan(tensors);
        byte[] header = EncodeHeader(path, entries, metadata);
        string temp = path + TemporarySuffix + Guid.NewGuid().ToString("N");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, CopyBufferSize))
            {
                Span<byte> prefix = stackalloc byte[8];
                BinaryPrimitives.WriteUInt64LittleEndian(prefix, (ulong)header.Length);
                stream.Write(prefix);
                stream.Write(header);
                long dataStart = stream.Position;
                for (int i = 0; i < entries.Count; i++)
                {
                    WriteTensorBytes(stream, tensors[i].Tensor);
                    if (stream.Position != dataStart + entries[i].End)
                    {
                        throw new InvalidOperationException(
                            $"Tensor '{entries[i].Name}' changed size while checkpoint '{path}' was being written.");
                    }
                    afterTensor?.Invoke(entries[i].Name);
                }
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, path, overwrite: true);
            DurableFolder.Flush(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            TryDelete(temp);
            throw new CheckpointException(path, $"could not be written: {ex.Message}", ex);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    /// <summary>Validates names and dtypes and assigns each tensor its byte range, back to back in the given order.</summary>
    private static List<SafetensorsEntry> Plan(IReadOnlyList<(string Name, Tensor Tensor)> tensors)
    {
        var entries = new List<SafetensorsEntry>(tensors.Count);
        var names = new HashSet<string>(StringComparer.Ordinal);
        long offset = 0;
        foreach (var (name, tensor) in tensors)
        {
            if (string.IsNullOrEmpty(name))
            {
                throw new ArgumentException("Checkpoint tensor names must be non-empty.", nameof(tensors));
            }
            if (name == SafetensorsHeader.MetadataKey)
            {
                throw new ArgumentException($"'{name}' is reserved for metadata and cannot name a tensor.", nameof(tensors));
            }
            if (!names.Add(name))
            {
                throw new ArgumentException($"The checkpoint tensor name '{name}' is used twice.", nameof(tensors));
            }
            if (tensor is null)
            {
                throw new ArgumentException($"The checkpoint tensor '{name}' is null.", nameof(tensors));
            }
            if (!SafetensorsDtypes.TryToName(tensor.dtype, out string dtype))
            {
                throw new ArgumentException(
                    $"The checkpoint tensor '{name}' has dtype {tensor.dtype}, which safetensors checkpoints do not support " +
                    $"(supported: {string.Join(", ", SafetensorsDtypes.Names)}).", nameof(tensors));
            }
            long length = checked(tensor.NumberOfElements * tensor.ElementSize);
            entries.Add(new SafetensorsEntry(name, dtype, tensor.dtype, tensor.shape, offset, checked(offset + length)));
            offset += length;
        }
        return entries;
    }

    /// <summary>The UTF-8 JSON header, padded with spaces to a multiple of 8 bytes as the reference writer does.</summary>
    private static byte[] EncodeHeader(
        string path, List<SafetensorsEntry> entries, IReadOnlyDictionary<string, string>? metadata)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            if (metadata is not null)
            {
                json.WriteStartObject(SafetensorsHeader.MetadataKey);
                foreach (var (key, value) in metadata.OrderBy(kv => kv.Key, StringComparer.Ordinal))
                {
                    if (value is null)
                    {
                        throw new ArgumentException($"The checkpoint metadata value of '{key}' is null.", nameof(metadata));
                    }
                    json.WriteString(key, value);
                }
                json.WriteEndObject();
            }
            foreach (var entry in entries)
            {
                json.WriteStartObject(entry.Name);
                json.WriteString("dtype", entry.Dtype);
                json.WriteStartArray("shape");
                foreach (long dim in entry.Shape)
                {
                    json.WriteNumberValue(dim);
                }
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(entry.Begin);
                json.WriteNumberValue(entry.End);
                json.WriteEndArray();
                json.WriteEndObject();
            }
            json.WriteEndObject();
        }

        long padded = (buffer.Length + 7) / 8 * 8;
        if (padded > MaxHeaderLength)
        {
            throw new CheckpointException(path, $"the header would be {padded} bytes, more than the {MaxHeaderLength} readers accept");
        }
        while (buffer.Length < padded)
        {
            buffer.WriteByte((byte)' ');
        }
        return buffer.ToArray();
    }

    /// <summary>Streams one tensor's bytes: a detached, CPU, contiguous copy (or view) is made and disposed here.</summary>
    private static void WriteTensorBytes(Stream stream, Tensor tensor)
    {
        using var detached = tensor.detach();
        using var onCpu = detached.cpu();
        using var contiguous = onCpu.contiguous();
        contiguous.WriteBytesToStream(stream, CopyBufferSize);
    }

    private const string TemporarySuffix = ".tmp-";

    /// <summary>
    /// True for the name of a temporary file <see cref="Write(string, IReadOnlyList{ValueTuple{string, Tensor}}, IReadOnlyDictionary{string, string})"/>
    /// makes (<c>NAME.tmp-</c> and 32 hex digits): what a process killed while writing leaves behind.
    /// </summary>
    public static bool IsTemporaryName(string fileName)
    {
        int at = fileName.LastIndexOf(TemporarySuffix, StringComparison.Ordinal);
        if (at <= 0 || fileName.Length - at - TemporarySuffix.Length != 32) return false;
        foreach (char c in fileName.AsSpan(at + TemporarySuffix.Length))
            if (!char.IsAsciiHexDigitLower(c) && !char.IsAsciiDigit(c)) return false;
        return true;
    }

    private static void TryDelete(string file)
    {
        try
        {
            File.Delete(file);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Best effort: the original failure is the one worth reporting.
        }
    }
}
