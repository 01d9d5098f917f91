using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json;

namespace Lightning.Tests.Probe;

/// <summary>
/// One tensor of a <see cref="RawCheckpoint"/>: its header fields and bytes. The <c>*Raw</c> members replace a part
/// of the rendered header entry with arbitrary JSON text, so a mutation can write what no valid writer would.
/// </summary>
public sealed class RawTensor
{
    public required string Name { get; set; }
    public required string Dtype { get; set; }
    public required long[] Shape { get; set; }
    public required byte[] Data { get; set; }

    /// <summary>The entry's key as JSON text (default: <see cref="Name"/> as a JSON string).</summary>
    public string? KeyRaw { get; set; }
    public string? DtypeRaw { get; set; }
    public string? ShapeRaw { get; set; }

    /// <summary>The whole entry value as JSON text (then dtype/shape/offsets are not rendered).</summary>
    public string? EntryRaw { get; set; }

    /// <summary>Extra members appended to the entry object, as JSON text (e.g. <c>"fuzz":1</c>).</summary>
    public string? ExtraFieldsRaw { get; set; }
    public bool OmitDtype { get; set; }
    public bool OmitShape { get; set; }
    public bool OmitOffsets { get; set; }

    /// <summary>Renders <c>data_offsets</c> from (begin, end, data section length); default <c>[begin,end]</c>.</summary>
    public Func<long, long, long, string>? OffsetsEdit { get; set; }

    public RawTensor Clone() => new() { Name = Name, Dtype = Dtype, Shape = (long[])Shape.Clone(), Data = (byte[])Data.Clone() };
}

/// <summary>
/// A safetensors file taken apart for mutation: the <c>__metadata__</c> map (each value kept as JSON text, so it can
/// become a number, an object or anything else), the tensors in data order, and switches that make the rendered header
/// break the format's rules. <see cref="ToBytes"/> lays the file out again (offsets computed from the data).
/// </summary>
public sealed class RawCheckpoint
{
    /// <summary>Placeholders that <see cref="ToBytes"/> turns into invalid UTF-8 byte sequences in the header.</summary>
    public static readonly IReadOnlyDictionary<string, byte[]> BadUtf8 = new Dictionary<string, byte[]>
    {
        ["@@BAD_FF@@"] = new byte[] { 0xFF },                 // never valid in UTF-8
        ["@@BAD_OVERLONG@@"] = new byte[] { 0xC0, 0x80 },     // overlong NUL
        ["@@BAD_SURROGATE@@"] = new byte[] { 0xED, 0xA0, 0x80 }, // an encoded UTF-16 surrogate
        ["@@BAD_CUT@@"] = new byte[] { 0xE2, 0x82 },          // a sequence cut short
    };

    /// <summary>The metadata in file order: key and value as JSON text (a JSON string in a valid file).</summary>
    public List<(string Key, string Raw)> Metadata { get; set; } = new();

    /// <summary>The whole <c>__metadata__</c> value as JSON text, instead of <see cref="Metadata"/>.</summary>
    public string? MetadataRaw { get; set; }
    public bool OmitMetadata { get; set; }

    /// <summary>The tensors in the order of their bytes.</summary>
    public List<RawTensor> Tensors { get; set; } = new();

    /// <summary>Top-level members appended to the header: (key as JSON text, value as JSON text).</summary>
    public List<(string KeyRaw, string Raw)> ExtraTop { get; set; } = new();

    /// <summary>The whole header text, instead of rendering it.</summary>
    public string? HeaderRaw { get; set; }

    /// <summary>Pad the header with spaces to a multiple of 8 bytes (as the writer does); false leaves it as rendered.</summary>
    public bool PadHeader { get; set; } = true;

    /// <summary>The padding byte; another than a space pads at least one byte.</summary>
    public byte PadByte { get; set; } = (byte)' ';

    /// <summary>Extra bytes after the data section (unused bytes, which the reader must reject).</summary>
    public byte[] Trailer { get; set; } = Array.Empty<byte>();

    public static string Str(string value) => JsonSerializer.Serialize(value);

    public string? MetadataValue(string key) =>
        Metadata.Where(m => m.Key == key).Select(m => JsonSerializer.Deserialize<string>(m.Raw)).FirstOrDefault();

    public RawTensor Tensor(string name) => Tensors.Single(t => t.Name == name);

    /// <summary>Takes apart a valid safetensors file (the base checkpoints the mutations start from).</summary>
    public static RawCheckpoint Parse(byte[] file)
    {
        long n = (long)BinaryPrimitives.ReadUInt64LittleEndian(file);
        int dataStart = checked(8 + (int)n);
        using var doc = JsonDocument.Parse(file.AsMemory(8, (int)n));
        var raw = new RawCheckpoint();
        var tensors = new List<(long Begin, RawTensor Tensor)>();
        foreach (var p in doc.RootElement.EnumerateObject())
        {
            if (p.Name == "__metadata__")
            {
                foreach (var m in p.Value.EnumerateObject()) raw.Metadata.Add((m.Name, Str(m.Value.GetString()!)));
                continue;
            }
            var offsets = p.Value.GetProperty("data_offsets").EnumerateArray().Select(e => e.GetInt64()).ToArray();
            tensors.Add((offsets[0], new RawTensor
            {
                Name = p.Name,
                Dtype = p.Value.GetProperty("dtype").GetString()!,
                Shape = p.Value.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()).ToArray(),
                Data = file.AsSpan(dataStart + (int)offsets[0], (int)(offsets[1] - offsets[0])).ToArray(),
            }));
        }
        raw.Tensors = tensors.OrderBy(t => t.Begin).Select(t => t.Tensor).ToList();
        return raw;
    }

    public RawCheckpoint Clone() => new()
    {
        Metadata = new List<(string, string)>(Metadata),
        MetadataRaw = MetadataRaw,
        OmitMetadata = OmitMetadata,
        Tensors = Tensors.Select(t => t.Clone()).ToList(),
        ExtraTop = new List<(string, string)>(ExtraTop),
        HeaderRaw = HeaderRaw,
        PadHeader = PadHeader,
        PadByte = PadByte,
        Trailer = (byte[])Trailer.Clone(),
    };

    /// <summary>The header as JSON text (before padding and before the bad-UTF-8 placeholders are replaced).</summary>
    public string HeaderText()
    {
        if (HeaderRaw is not null) return HeaderRaw;
        var members = new List<string>();
        if (MetadataRaw is not null) members.Add("\"__metadata__\":" + MetadataRaw);
        else if (!OmitMetadata) members.Add("\"__metadata__\":{" + string.Join(",", Metadata.Select(m => Str(m.Key) + ":" + m.Raw)) + "}");
        long total = Tensors.Sum(t => (long)t.Data.Length);
        long offset = 0;
        foreach (var t in Tensors)
        {
            long begin = offset, end = offset + t.Data.Length;
            offset = end;
            string value;
            if (t.EntryRaw is not null) value = t.EntryRaw;
            else
            {
                var fields = new List<string>();
                if (!t.OmitDtype) fields.Add("\"dtype\":" + (t.DtypeRaw ?? Str(t.Dtype)));
                if (!t.OmitShape) fields.Add("\"shape\":" + (t.ShapeRaw ?? "[" + string.Join(",", t.Shape) + "]"));
                if (!t.OmitOffsets) fields.Add("\"data_offsets\":" + (t.OffsetsEdit?.Invoke(begin, end, total) ?? $"[{begin},{end}]"));
                if (t.ExtraFieldsRaw is not null) fields.Add(t.ExtraFieldsRaw);
                value = "{" + string.Join(",", fields) + "}";
            }
            members.Add((t.KeyRaw ?? Str(t.Name)) + ":" + value);
        }
        members.AddRange(ExtraTop.Select(m => m.KeyRaw + ":" + m.Raw));
        return "{" + string.Join(",", members) + "}";
    }

    /// <summary>Lays the file out: 8-byte length, header (padded), the tensors' bytes back to back, the trailer.</summary>
    public byte[] ToBytes()
    {
        var header = Encoding.UTF8.GetBytes(HeaderText());
        foreach (var (placeholder, bytes) in BadUtf8) header = Replace(header, Encoding.ASCII.GetBytes(placeholder), bytes);
        int pad = PadHeader ? (8 - header.Length % 8) % 8 : 0;
        if (PadByte != (byte)' ' && pad == 0) pad = 8;
        using var file = new MemoryStream();
        Span<byte> length = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)(header.Length + pad));
        file.Write(length);
        file.Write(header);
        for (int i = 0; i < pad; i++) file.WriteByte(PadByte);
        foreach (var t in Tensors) file.Write(t.Data);
        file.Write(Trailer);
        return file.ToArray();
    }

    private static byte[] Replace(byte[] text, byte[] what, byte[] with)
    {
        int at = text.AsSpan().IndexOf(what);
        if (at < 0) return text;
        var result = new List<byte>(text.Length);
        int start = 0;
        while (at >= 0)
        {
            result.AddRange(text.AsSpan(start, at - start).ToArray());
            result.AddRange(with);
            start = at + what.Length;
            int next = text.AsSpan(start).IndexOf(what);
            at = next < 0 ? -1 : start + next;
        }
        result.AddRange(text.AsSpan(start).ToArray());
        return result.ToArray();
    }
}
