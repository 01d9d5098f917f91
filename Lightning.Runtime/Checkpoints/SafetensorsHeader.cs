using System;
using System.Collections.Generic;
using System.Text;
using System.Text.Json;

namespace Lightning.Checkpoints;

/// <summary>
/// Parses and validates a safetensors JSON header. Every rule of the format is checked here, before any
/// tensor memory is allocated, and every violation becomes a <see cref="CheckpointException"/>.
/// </summary>
internal static class SafetensorsHeader
{
    /// <summary>The key of the optional string-to-string metadata object.</summary>
    public const string MetadataKey = "__metadata__";

    /// <summary>More dimensions than any real tensor has; bounds the work a hostile header can cause.</summary>
    public const int MaxRank = 64;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>
    /// Parses <paramref name="header"/> for a file whose data section holds <paramref name="dataLength"/> bytes.
    /// Returns the metadata and the entries in data-section order.
    /// </summary>
    public static (Dictionary<string, string> Metadata, List<SafetensorsEntry> Entries) Parse(
        string path, byte[] header, long dataLength)
    {
        using var document = ParseJson(path, header);
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new CheckpointException(path, $"the header is not a JSON object (it is {root.ValueKind})");
        }

        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        var entries = new List<SafetensorsEntry>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var property in root.EnumerateObject())
        {
            if (!seen.Add(property.Name))
            {
                throw new CheckpointException(path, $"the header has the key '{property.Name}' twice");
            }
            if (property.Name == MetadataKey)
            {
                metadata = ParseMetadata(path, property.Value);
            }
            else
            {
                entries.Add(ParseEntry(path, property.Name, property.Value, dataLength));
            }
        }

        entries.Sort((a, b) => a.Begin != b.Begin ? a.Begin.CompareTo(b.Begin) : a.End.CompareTo(b.End));
        CheckCoverage(path, entries, dataLength);
        return (metadata, entries);
    }

    private static JsonDocument ParseJson(string path, byte[] header)
    {
        try
        {
            StrictUtf8.GetCharCount(header);
        }
        catch (DecoderFallbackException)
        {
            throw new CheckpointException(path, "the header is not valid UTF-8");
        }
        try
        {
            return JsonDocument.Parse(header, new JsonDocumentOptions { MaxDepth = 8 });
        }
        catch (JsonException ex)
        {
            throw new CheckpointException(path, $"the header is not valid JSON: {ex.Message}", ex);
        }
    }

    private static Dictionary<string, string> ParseMetadata(string path, JsonElement value)
    {
        if (value.ValueKind != JsonValueKind.Object)
        {
            throw new CheckpointException(path, $"'{MetadataKey}' must be an object of strings, not {value.ValueKind}");
        }
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var item in value.EnumerateObject())
        {
            if (item.Value.ValueKind != JsonValueKind.String)
            {
                throw new CheckpointException(
                    path, $"'{MetadataKey}' value of '{item.Name}' must be a string, not {item.Value.ValueKind}");
            }
            if (!metadata.TryAdd(item.Name, item.Value.GetString()!))
            {
                throw new CheckpointException(path, $"'{MetadataKey}' has the key '{item.Name}' twice");
            }
        }
        return metadata;
    }

    private static SafetensorsEntry ParseEntry(string path, string name, JsonElement value, long dataLength)
    {
        if (name.Length == 0)
        {
            throw new CheckpointException(path, "the header names a tensor with an empty name");
        }
        if (value.ValueKind != JsonValueKind.Object)
        {
            throw new CheckpointException(path, $"tensor '{name}': its header entry is {value.ValueKind}, not an object");
        }

        JsonElement? dtype = null, shape = null, offsets = null;
        foreach (var field in value.EnumerateObject())
        {
            ref JsonElement? slot = ref dtype;
            switch (field.Name)
            {
                case "dtype": slot = ref dtype; break;
                case "shape": slot = ref shape; break;
                case "data_offsets": slot = ref offsets; break;
                default:
                    throw new CheckpointException(path, $"tensor '{name}': unexpected field '{field.Name}'");
            }
            if (slot is not null)
            {
                throw new CheckpointException(path, $"tensor '{name}': the field '{field.Name}' appears twice");
            }
            slot = field.Value;
        }

        string dtypeName = ParseDtype(path, name, dtype);
        SafetensorsDtypes.TryFromName(dtypeName, out var scalarType, out int elementSize);
        long[] dims = ParseShape(path, name, shape);
        var (begin, end) = ParseOffsets(path, name, offsets, dataLength);

        long expected = ByteLength(path, name, dims, elementSize);
        if (expected != end - begin)
        {
            throw new CheckpointException(path,
                $"tensor '{name}': shape mismatch: shape [{string.Join(", ", dims)}] of dtype {dtypeName} needs " +
                $"{expected} bytes but data_offsets [{begin}, {end}] cover {end - begin} bytes");
        }
        return new SafetensorsEntry(name, dtypeName, scalarType, dims, begin, end);
    }

    private static string ParseDtype(string path, string name, JsonElement? dtype)
    {
        if (dtype is not { ValueKind: JsonValueKind.String } element)
        {
            throw new CheckpointException(path, $"tensor '{name}': 'dtype' is missing or not a string");
        }
        string value = element.GetString()!;
        if (!SafetensorsDtypes.TryFromName(value, out _, out _))
        {
            throw new CheckpointException(path,
                $"tensor '{name}': unknown dtype '{value}' (supported: {string.Join(", ", SafetensorsDtypes.Names)})");
        }
        return value;
    }

    private static long[] ParseShape(string path, string name, JsonElement? shape)
    {
        if (shape is not { ValueKind: JsonValueKind.Array } array)
        {
            throw new CheckpointException(path, $"tensor '{name}': 'shape' is missing or not an array");
        }
        int rank = array.GetArrayLength();
        if (rank > MaxRank)
        {
            throw new CheckpointException(path, $"tensor '{name}': shape has {rank} dimensions, more than {MaxRank}");
        }
        var dims = new long[rank];
        int i = 0;
        foreach (var item in array.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt64(out dims[i]) || dims[i] < 0)
            {
                throw new CheckpointException(path,
                    $"tensor '{name}': shape entry {i} ({item.GetRawText()}) is not a non-negative integer");
            }
            i++;
        }
        return dims;
    }

    private static (long Begin, long End) ParseOffsets(string path, string name, JsonElement? offsets, long dataLength)
    {
        if (offsets is not { ValueKind: JsonValueKind.Array } array || array.GetArrayLength() != 2
            || !TryNonNegative(array[0], out long begin) || !TryNonNegative(array[1], out long end))
        {
            throw new CheckpointException(path, $"tensor '{name}': 'data_offsets' must be two non-negative integers");
        }
        if (begin > end)
        {
            throw new CheckpointException(path, $"tensor '{name}': data_offsets [{begin}, {end}] begin after they end");
        }
        if (end > dataLength)
        {
            throw new CheckpointException(path,
                $"tensor '{name}': data_offsets [{begin}, {end}] are out of range: the data section has {dataLength} bytes " +
                "(is the file truncated?)");
        }
        return (begin, end);
    }

    private static bool TryNonNegative(JsonElement element, out long value)
    {
        value = 0;
        return element.ValueKind == JsonValueKind.Number && element.TryGetInt64(out value) && value >= 0;
    }

    /// <summary>
    /// product(shape) * element size, refusing overflow. Zero dimensions count as one for the overflow check,
    /// so no shape reaches libtorch whose other dimensions multiply past <see cref="long.MaxValue"/>.
    /// </summary>
    private static long ByteLength(string path, string name, long[] dims, int elementSize)
    {
        Int128 nonZeroProduct = elementSize;
        bool hasZero = false;
        foreach (long dim in dims)
        {
            hasZero |= dim == 0;
            nonZeroProduct *= Math.Max(dim, 1);
            if (nonZeroProduct > long.MaxValue)
            {
                throw new CheckpointException(path, $"tensor '{name}': shape [{string.Join(", ", dims)}] is too large");
            }
        }
        return hasZero ? 0 : (long)nonZeroProduct;
    }

    /// <summary>The format requires the tensors to cover the data section exactly: no overlaps, no holes.</summary>
    private static void CheckCoverage(string path, List<SafetensorsEntry> sorted, long dataLength)
    {
        long covered = 0;
        SafetensorsEntry? previous = null;
        foreach (var entry in sorted)
        {
            if (entry.Begin < covered)
            {
                throw new CheckpointException(path,
                    $"tensors '{previous!.Name}' and '{entry.Name}' overlap in the data section " +
                    $"([{previous.Begin}, {previous.End}] and [{entry.Begin}, {entry.End}])");
            }
            if (entry.Begin > covered)
            {
                throw new CheckpointException(path,
                    $"tensor '{entry.Name}': the data section has a gap of unused bytes [{covered}, {entry.Begin}] before it");
            }
            covered = entry.End;
            previous = entry;
        }
        if (covered != dataLength)
        {
            throw new CheckpointException(path,
                $"the data section has {dataLength - covered} unused bytes after the last tensor " +
                $"(tensors cover {covered} of {dataLength} bytes)");
        }
    }
}
