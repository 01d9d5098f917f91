using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Lightning.Tests.Probe;

/// <summary>A mutated checkpoint: a descriptive name (e.g. <c>last/meta.scheduler.steps=1e9</c>) and its file.</summary>
public sealed record FuzzVariant(string Name, string Path);

/// <summary>
/// The structure-aware mutator. It takes the base checkpoints apart (<see cref="RawCheckpoint"/>) and writes variants
/// that break one thing each: a metadata value (type, range, presence, encoding), a field inside a JSON metadata value,
/// a tensor entry (dtype, shape, offsets, presence, bytes), the random and optimizer states, the layout (header length,
/// truncation, trailing bytes), and seeded random byte flips. It is deterministic: the same base files give the same
/// variants, in the same order, under the same names. Byte-identical variants are written once.
/// </summary>
public sealed class CheckpointMutations
{
    /// <summary>The seed of every random choice (byte flips, random fills).</summary>
    public const int Seed = 1234;

    /// <summary>Which families of mutations a base checkpoint gets.</summary>
    [Flags]
    public enum Scope
    {
        /// <summary>Metadata keys, set to wrong types and values (only these keys when a list is given).</summary>
        Metadata = 1,
        /// <summary>Fields inside the JSON metadata values.</summary>
        Json = 2,
        /// <summary>Every tensor entry: dtype, shape, offsets, presence, bytes.</summary>
        Tensors = 4,
        /// <summary>The random generator's state: zeroed, 0xFF, random, cut short, lengthened.</summary>
        Rng = 8,
        /// <summary>The optimizer's state: cut, lengthened, its words overwritten.</summary>
        Optimizer = 16,
        /// <summary>The header length, truncations, trailing bytes, whole-header replacements.</summary>
        Layout = 32,
        All = Metadata | Json | Tensors | Rng | Optimizer | Layout,
    }

    private static readonly Dictionary<string, int> ElementSize = new()
    {
        ["F64"] = 8, ["F32"] = 4, ["F16"] = 2, ["BF16"] = 2, ["I64"] = 8, ["I32"] = 4, ["I16"] = 2, ["I8"] = 1, ["U8"] = 1, ["BOOL"] = 1,
    };

    private readonly string _outDir;
    private readonly List<FuzzVariant> _variants = new();
    private readonly HashSet<string> _seen = new(StringComparer.Ordinal);
    private string _base = "";

    private CheckpointMutations(string outDir)
    {
        _outDir = outDir;
        Directory.CreateDirectory(outDir);
    }

    /// <summary>
    /// Writes the variants of the base checkpoints in <paramref name="baseDir"/> (<c>last.ckpt</c>: an end-of-epoch
    /// training checkpoint, every mutation; <c>mid.ckpt</c>: a checkpoint within an epoch, the loop state;
    /// <c>weights.ckpt</c>: a weights-only file) to <paramref name="outDir"/>, and lists them.
    /// </summary>
    public static IReadOnlyList<FuzzVariant> Generate(string baseDir, string outDir)
    {
        var g = new CheckpointMutations(outDir);
        g.Mutate("last", File.ReadAllBytes(Path.Combine(baseDir, "last.ckpt")), Scope.All, null, flips: 300);
        g.Mutate("mid", File.ReadAllBytes(Path.Combine(baseDir, "mid.ckpt")), Scope.Metadata | Scope.Json | Scope.Rng,
            new[] { "epoch", "global_step", "batch_in_epoch", "epoch_finished", "epoch_end_done", "iteration", "scheduler", "callbacks" }, flips: 100);
        g.Mutate("weights", File.ReadAllBytes(Path.Combine(baseDir, "weights.ckpt")), Scope.Metadata | Scope.Json,
            new[] { "format_version", "module_type", "hparams", "epoch", "global_step" }, flips: 60);
        return g._variants;
    }

    private void Mutate(string baseName, byte[] original, Scope scope, string[]? metadataKeys, int flips)
    {
        _base = baseName;
        var raw = RawCheckpoint.Parse(original);
        // Controls: the file as written and as re-rendered must load; if they do not, the harness is broken.
        Add("identity", original);
        Add("identity.rendered", raw);
        if (scope.HasFlag(Scope.Metadata)) MetadataValues(raw, metadataKeys);
        if (scope.HasFlag(Scope.Json)) JsonFields(raw);
        if (scope.HasFlag(Scope.Tensors)) foreach (var t in raw.Tensors) TensorEntry(raw, t.Name);
        if (scope.HasFlag(Scope.Rng)) RngState(raw);
        if (scope.HasFlag(Scope.Optimizer)) OptimizerState(raw);
        if (scope.HasFlag(Scope.Layout)) Layout(raw, original);
        Flips(original, flips);
    }

    // ------------------------------------------------------------------ output

    private void Add(string name, RawCheckpoint raw) => Add(name, raw.ToBytes());

    private void Add(string name, Func<RawCheckpoint> make) => Add(name, make());

    private void Add(string name, byte[] bytes)
    {
        var hash = Convert.ToHexString(SHA256.HashData(bytes));
        if (!_seen.Add(hash)) return;
        var path = Path.Combine(_outDir, $"v{_variants.Count:D5}.ckpt");
        File.WriteAllBytes(path, bytes);
        _variants.Add(new FuzzVariant($"{_base}/{OneLine(name)}", path));
    }

    private static RawCheckpoint With(RawCheckpoint b, Action<RawCheckpoint> edit)
    {
        var c = b.Clone();
        edit(c);
        return c;
    }

    /// <summary>A short form of a value for a variant name.</summary>
    private static string Short(string raw) => raw.Length <= 40 ? raw : $"{raw[..24]}…({raw.Length} chars)";

    /// <summary>Names are one line without tabs (the manifest is tab-separated, the results line-based).</summary>
    private static string OneLine(string name) =>
        name.Replace("\n", "\\n").Replace("\r", "\\r").Replace("\t", "\\t").Replace("\0", "\\0");

    // ------------------------------------------------------------------ metadata values

    /// <summary>Values of the wrong JSON type at the <c>__metadata__</c> level, where only strings are allowed.</summary>
    private static readonly string[] WrongTypes =
    {
        "5", "-1", "0", "1000000000", "1e9", "1e308", "9223372036854775807", "true", "null", "{}", "[]", "{\"a\":{\"b\":\"c\"}}", "[\"1\"]",
    };

    /// <summary>String values: negative, zero, huge, not numbers, empty, invalid UTF-8, long.</summary>
    private static readonly string[] StringValues =
    {
        "", "-1", "0", "-0", "1e9", "1000000000", "2147483647", "2147483648", "9223372036854775807", "9223372036854775808",
        "-9223372036854775808", "1e308", "1.5", " 1", "+1", "0x10", "NaN", "true", "false", "x", "\u0000",
    };

    private static readonly string[] BadUtf8Strings = { "1@@BAD_FF@@", "@@BAD_OVERLONG@@", "@@BAD_SURROGATE@@", "x@@BAD_CUT@@" };

    private void MetadataValues(RawCheckpoint raw, string[]? keys)
    {
        var all = raw.Metadata.Select(m => m.Key).ToList();
        foreach (var key in keys ?? all.ToArray())
        {
            int index = all.IndexOf(key);
            if (index < 0) continue;
            var value = raw.MetadataValue(key)!;
            RawCheckpoint Set(string rawValue) => With(raw, c => c.Metadata[index] = (key, rawValue));

            foreach (var wrong in WrongTypes) Add($"meta.{key}={wrong}", Set(wrong));
            foreach (var s in StringValues) Add($"meta.{key}=\"{Short(s)}\"", Set(RawCheckpoint.Str(s)));
            foreach (var s in BadUtf8Strings) Add($"meta.{key}=\"{s}\"(invalid UTF-8)", Set("\"" + s + "\""));
            Add($"meta.{key}=\"{Short(value)}\"+100k chars", Set(RawCheckpoint.Str(value + new string('1', 100_000))));
            Add($"meta.{key}.missing", With(raw, c => c.Metadata.RemoveAt(index)));
            Add($"meta.{key}.duplicate(same value)", With(raw, c => c.Metadata.Insert(index + 1, c.Metadata[index])));
            Add($"meta.{key}.duplicate(second=\"-1\")", With(raw, c => c.Metadata.Insert(index + 1, (key, "\"-1\""))));
            Add($"meta.{key}.renamed({key.ToUpperInvariant()})", With(raw, c => c.Metadata[index] = (key.ToUpperInvariant(), c.Metadata[index].Raw)));

            if (!LooksLikeJson(value)) continue;
            // The JSON text inside the string, broken as a whole.
            var texts = new (string Name, string Text)[]
            {
                ("not-json", "not json"), ("{}", "{}"), ("[]", "[]"), ("null", "null"), ("1", "1"), ("\"s\"", "\"s\""),
                ("truncated", value[..(value.Length / 2)]), ("trailing-garbage", value + "x"), ("bom", "\uFEFF" + value),
                ("comment", "/*c*/" + value), ("trailing-comma", value[..^1] + "," + value[^1]),
                ("nested-100k", new string('[', 100_000) + new string(']', 100_000)),
                ("nested-1000-objects", string.Concat(Enumerable.Repeat("{\"a\":", 1000)) + "1" + new string('}', 1000)),
                ("two-documents", value + value),
            };
            foreach (var (name, text) in texts) Add($"meta.{key}.json={name}", Set(RawCheckpoint.Str(text)));
        }
    }

    private static bool LooksLikeJson(string value) =>
        value.Length > 1 && (value[0] == '{' && value[^1] == '}' || value[0] == '[' && value[^1] == ']');

    // ------------------------------------------------------------------ fields inside JSON metadata

    private enum EditKind { Replace, Remove, Duplicate, Extra }

    private sealed record JsonEdit(string Path, EditKind Kind, string Raw);

    private static readonly string[] NumberValues =
    {
        "-1", "0", "1.5", "1000000", "1000000000", "1e9", "2147483647", "2147483648", "-2147483648", "9223372036854775807", "18446744073709551616",
        "1e308", "-1e308",
    };

    private static readonly string[] TypeValues = { "\"fuzz\"", "\"\"", "true", "null", "{}", "[]" };

    private void JsonFields(RawCheckpoint raw)
    {
        for (int index = 0; index < raw.Metadata.Count; index++)
        {
            var (key, _) = raw.Metadata[index];
            var value = raw.MetadataValue(key)!;
            if (!LooksLikeJson(value)) continue;
            JsonNode root;
            try { root = JsonNode.Parse(value)!; }
            catch (JsonException) { continue; }
            int i = index;
            foreach (var (path, node) in Paths(root, "$"))
            {
                string label = path == "$" ? "" : path[1..];
                string original = node?.ToJsonString() ?? "null";
                void Edit(string name, JsonEdit edit) =>
                    Add($"meta.{key}{label}{name}", With(raw, c => c.Metadata[i] = (key, RawCheckpoint.Str(Render(root, "$", edit)))));

                var replacements = TypeValues.AsEnumerable();
                if (node is JsonValue v && v.GetValueKind() == JsonValueKind.Number) replacements = NumberValues.Concat(replacements);
                else replacements = replacements.Concat(new[] { "-1", "0", "1000000000", "1e9", "9223372036854775807", "1e308" });
                if (node is JsonValue s && s.GetValueKind() == JsonValueKind.String) replacements = replacements.Concat(new[] { "\"\\u0000\"", "\"/\"" });
                foreach (var r in replacements.Where(r => r != original)) Edit("=" + r, new JsonEdit(path, EditKind.Replace, r));
                if (path != "$")
                {
                    Edit(".missing", new JsonEdit(path, EditKind.Remove, ""));
                    Edit(".duplicate(same)", new JsonEdit(path, EditKind.Duplicate, original));
                    Edit(".duplicate(second=\"fuzz\")", new JsonEdit(path, EditKind.Duplicate, "\"fuzz\""));
                }
                if (node is JsonObject) Edit(".extra-key", new JsonEdit(path, EditKind.Extra, "1"));
                if (node is JsonArray) Edit(".extra-element", new JsonEdit(path, EditKind.Extra, "\"fuzz\""));
            }
        }
    }

    /// <summary>Every node with its path (<c>$.a.b[0]</c>); arrays contribute their first two elements.</summary>
    private static IEnumerable<(string Path, JsonNode? Node)> Paths(JsonNode? node, string path)
    {
        yield return (path, node);
        if (node is JsonObject o)
        {
            foreach (var (k, child) in o)
                foreach (var p in Paths(child, path + "." + k)) yield return p;
        }
        else if (node is JsonArray a)
        {
            for (int i = 0; i < Math.Min(2, a.Count); i++)
                foreach (var p in Paths(a[i], $"{path}[{i}]")) yield return p;
        }
    }

    /// <summary>Renders <paramref name="node"/> as JSON text with <paramref name="edit"/> applied at its path.</summary>
    private static string Render(JsonNode? node, string path, JsonEdit edit)
    {
        if (path == edit.Path && edit.Kind == EditKind.Replace) return edit.Raw;
        if (node is JsonObject o)
        {
            var members = new List<string>();
            foreach (var (k, child) in o)
            {
                var p = path + "." + k;
                if (p == edit.Path && edit.Kind == EditKind.Remove) continue;
                members.Add(RawCheckpoint.Str(k) + ":" + Render(child, p, edit));
                if (p == edit.Path && edit.Kind == EditKind.Duplicate) members.Add(RawCheckpoint.Str(k) + ":" + edit.Raw);
            }
            if (path == edit.Path && edit.Kind == EditKind.Extra) members.Add("\"fuzz_extra\":" + edit.Raw);
            return "{" + string.Join(",", members) + "}";
        }
        if (node is JsonArray a)
        {
            var items = new List<string>();
            for (int i = 0; i < a.Count; i++)
            {
                var p = $"{path}[{i}]";
                if (p == edit.Path && edit.Kind == EditKind.Remove) continue;
                items.Add(Render(a[i], p, edit));
                if (p == edit.Path && edit.Kind == EditKind.Duplicate) items.Add(edit.Raw);
            }
            if (path == edit.Path && edit.Kind == EditKind.Extra) items.Add(edit.Raw);
            return "[" + string.Join(",", items) + "]";
        }
        return node?.ToJsonString() ?? "null";
    }

    // ------------------------------------------------------------------ tensor entries

    private static readonly string[] UnknownDtypes = { "U16", "U32", "U64", "F8_E4M3", "C64", "", "f32" };

    private void TensorEntry(RawCheckpoint raw, string name)
    {
        int index = raw.Tensors.FindIndex(t => t.Name == name);
        var t0 = raw.Tensors[index];
        string label = "tensor." + name;
        RawCheckpoint Edit(Action<RawTensor> edit) => With(raw, c => edit(c.Tensors[index]));

        // dtype: another dtype with the bytes unchanged (the sizes disagree unless the element sizes match), and
        // relaid: the same shape with the bytes resized, so the header is consistent and only the dtype is wrong.
        foreach (var d in ElementSize.Keys.Where(d => d != t0.Dtype))
        {
            Add($"{label}.dtype={d}", Edit(t => t.Dtype = d));
            Add($"{label}.dtype={d}.relaid", Edit(t => { t.Dtype = d; t.Data = Resize(t.Data, Numel(t.Shape) * ElementSize[d]); }));
        }
        foreach (var d in UnknownDtypes) Add($"{label}.dtype=\"{d}\"", Edit(t => t.Dtype = d));
        foreach (var r in new[] { "1", "null", "[\"F32\"]" }) Add($"{label}.dtype={r}", Edit(t => t.DtypeRaw = r));

        // shape: the header disagrees with the bytes, or (relaid) the bytes follow the new shape.
        var s = t0.Shape;
        var shapes = new List<(string Name, long[] Shape, bool Relaid)>();
        if (s.Length > 0)
        {
            shapes.Add(("shape+1", s.Select((d, i) => i == 0 ? d + 1 : d).ToArray(), false));
            shapes.Add(("shape+1", s.Select((d, i) => i == 0 ? d + 1 : d).ToArray(), true));
            shapes.Add(("shape*2", s.Select((d, i) => i == 0 ? d * 2 : d).ToArray(), true));
            if (s[0] > 0) shapes.Add(("shape-1", s.Select((d, i) => i == 0 ? d - 1 : d).ToArray(), false));
            if (s[0] > 1) shapes.Add(("shape-1", s.Select((d, i) => i == 0 ? d - 1 : d).ToArray(), true));
            shapes.Add(("shape.drop-last-dim", s[..^1], false));
            shapes.Add(("shape.drop-last-dim", s[..^1], true));
            shapes.Add(("shape.first-dim=0", s.Select((d, i) => i == 0 ? 0 : d).ToArray(), false));
            shapes.Add(("shape.first-dim=0", s.Select((d, i) => i == 0 ? 0 : d).ToArray(), true));
            shapes.Add(("shape.first-dim=-1", s.Select((d, i) => i == 0 ? -1 : d).ToArray(), false));
            shapes.Add(("shape.flattened", new[] { Numel(s) }, false));
            shapes.Add(("shape=[]", Array.Empty<long>(), true));
        }
        else shapes.Add(("shape=[1]", new long[] { 1 }, false));
        shapes.Add(("shape.extra-dim-1", s.Append(1).ToArray(), false));
        shapes.Add(("shape.extra-dim-2", s.Append(2).ToArray(), false));
        shapes.Add(("shape.extra-dim-2", s.Append(2).ToArray(), true));
        shapes.Add(("shape.leading-dim-0", s.Prepend(0).ToArray(), false));
        shapes.Add(("shape=[1e12]", new[] { 1_000_000_000_000L }, false));
        shapes.Add(("shape=[long.MaxValue]", new[] { long.MaxValue }, false));
        shapes.Add(("shape=[-1]", new[] { -1L }, false));
        shapes.Add(("shape.overflow=[2^32,2^32]", new[] { 1L << 32, 1L << 32 }, false));
        shapes.Add(("shape.overflow=[2^62,4]", new[] { 1L << 62, 4 }, false));
        shapes.Add(("shape.65-dims", Enumerable.Repeat(1L, 65).ToArray(), false));
        shapes.Add(("shape.64-dims-of-1", Enumerable.Repeat(1L, 64).ToArray(), true));
        foreach (var (n, shape, relaid) in shapes)
        {
            if (relaid && Numel(shape) * ElementSize[t0.Dtype] > 1 << 24) continue;
            Add($"{label}.{n}{(relaid ? ".relaid" : "")}", Edit(t =>
            {
                t.Shape = shape;
                if (relaid) t.Data = Resize(t.Data, Numel(shape) * ElementSize[t.Dtype]);
            }));
        }
        foreach (var r in new[] { "\"x\"", "[1.5]", "[\"1\"]", "null", "{}", "[[1]]", "[18446744073709551616]" })
            Add($"{label}.shape={r}", Edit(t => t.ShapeRaw = r));
        Add($"{label}.shape.missing", Edit(t => t.OmitShape = true));

        // data_offsets: shifted, swapped, overlapping, out of range, malformed.
        var offsets = new (string Name, Func<long, long, long, string> Render)[]
        {
            ("begin+1", (b, e, n) => $"[{b + 1},{e}]"), ("begin-1", (b, e, n) => $"[{b - 1},{e}]"),
            ("end+1", (b, e, n) => $"[{b},{e + 1}]"), ("end-1", (b, e, n) => $"[{b},{e - 1}]"),
            ("shift+1", (b, e, n) => $"[{b + 1},{e + 1}]"), ("shift-1", (b, e, n) => $"[{b - 1},{e - 1}]"),
            ("swapped", (b, e, n) => $"[{e},{b}]"), ("empty", (b, e, n) => $"[{b},{b}]"),
            ("overlap-previous-by-4", (b, e, n) => $"[{b - 4},{e - 4}]"), ("from-0", (b, e, n) => $"[0,{e - b}]"),
            ("past-end", (b, e, n) => $"[{n},{n + e - b}]"), ("end=data+1", (b, e, n) => $"[{b},{n + 1}]"),
            ("end=1e18", (b, e, n) => $"[{b},1000000000000000000]"), ("end=long.MaxValue", (b, e, n) => $"[{b},{long.MaxValue}]"),
            ("both=long.MaxValue", (b, e, n) => $"[{long.MaxValue},{long.MaxValue}]"),
            ("end=2^64-1", (b, e, n) => $"[{b},18446744073709551615]"), ("end=2^64", (b, e, n) => $"[{b},18446744073709551616]"),
            ("begin=-1", (b, e, n) => $"[-1,{e}]"), ("one-element", (b, e, n) => $"[{b}]"), ("three-elements", (b, e, n) => $"[{b},{e},{e}]"),
            ("strings", (b, e, n) => $"[\"{b}\",\"{e}\"]"), ("floats", (b, e, n) => $"[{b}.0,{e}.5]"),
            ("null", (b, e, n) => "null"), ("object", (b, e, n) => "{}"),
        };
        foreach (var (n, render) in offsets) Add($"{label}.offsets.{n}", Edit(t => t.OffsetsEdit = render));
        Add($"{label}.offsets.missing", Edit(t => t.OmitOffsets = true));

        // The entry itself.
        Add($"{label}.missing", With(raw, c => c.Tensors.RemoveAt(index)));
        Add($"{label}.missing-entry-bytes-kept", With(raw, c =>
        {
            // The entry goes, its bytes stay (at the end of the data section): unused bytes.
            var gone = c.Tensors[index];
            c.Tensors.RemoveAt(index);
            c.Trailer = gone.Data;
        }));
        Add($"{label}.renamed({name}_fuzz)", Edit(t => t.Name = name + "_fuzz"));
        Add($"{label}.renamed(\"\")", Edit(t => t.Name = ""));
        Add($"{label}.renamed(invalid UTF-8)", Edit(t => t.KeyRaw = "\"" + name + "@@BAD_FF@@\""));
        Add($"{label}.duplicate", With(raw, c => c.Tensors.Insert(index + 1, c.Tensors[index].Clone())));
        var other = raw.Tensors[(index + 1) % raw.Tensors.Count].Name;
        Add($"{label}.renamed-to({other})", Edit(t => t.Name = other));
        foreach (var r in new[] { "\"x\"", "[]", "null", "{}", "1" }) Add($"{label}.entry={r}", Edit(t => t.EntryRaw = r));
        Add($"{label}.extra-field", Edit(t => t.ExtraFieldsRaw = "\"fuzz\":1"));
        Add($"{label}.duplicate-field(dtype)", Edit(t => t.ExtraFieldsRaw = $"\"dtype\":\"{(t.Dtype == "F32" ? "F64" : "F32")}\""));
        Add($"{label}.dtype.missing", Edit(t => t.OmitDtype = true));

        // The bytes: all zeros, all 0xFF, random, and for floats NaN and infinity.
        Add($"{label}.bytes=zeros", Edit(t => Array.Clear(t.Data)));
        Add($"{label}.bytes=0xFF", Edit(t => Array.Fill(t.Data, (byte)0xFF)));
        Add($"{label}.bytes=random", Edit(t => new Random(Seed + index).NextBytes(t.Data)));
        if (t0.Dtype == "F32")
        {
            Add($"{label}.values=NaN", Edit(t => FillWords(t.Data, 0x7FC00000)));
            Add($"{label}.values=+inf", Edit(t => FillWords(t.Data, 0x7F800000)));
        }
        if (t0.Dtype == "I64")
        {
            Add($"{label}.values=-1", Edit(t => Array.Fill(t.Data, (byte)0xFF)));
            Add($"{label}.values=long.MaxValue", Edit(t => { for (int i = 0; i + 8 <= t.Data.Length; i += 8) BinaryPrimitives.WriteInt64LittleEndian(t.Data.AsSpan(i), long.MaxValue); }));
        }

        if (index == 0)
        {
            // Tensors the module does not have.
            Add("tensor.extra(model.fuzz)", With(raw, c => c.Tensors.Add(new RawTensor { Name = "model.fuzz", Dtype = "F32", Shape = new long[] { 1 }, Data = new byte[4] })));
            Add("tensor.extra(optimizer.fuzz)", With(raw, c => c.Tensors.Add(new RawTensor { Name = "optimizer.fuzz", Dtype = "U8", Shape = new long[] { 1 }, Data = new byte[1] })));
            Add("tensor.extra(fuzz)", With(raw, c => c.Tensors.Add(new RawTensor { Name = "fuzz", Dtype = "BOOL", Shape = new long[] { 1 }, Data = new byte[] { 1 } })));
            Add("tensor.extra(BOOL=2)", With(raw, c => c.Tensors.Add(new RawTensor { Name = "fuzz", Dtype = "BOOL", Shape = new long[] { 1 }, Data = new byte[] { 2 } })));
            Add("tensor.order-reversed", With(raw, c => c.Tensors.Reverse()));
        }
    }

    private static long Numel(long[] shape) => shape.Aggregate(1L, (a, d) => a * d);

    private static byte[] Resize(byte[] data, long length)
    {
        var result = new byte[length];
        Array.Copy(data, result, Math.Min(data.Length, length));
        return result;
    }

    private static void FillWords(byte[] data, uint word)
    {
        for (int i = 0; i + 4 <= data.Length; i += 4) BinaryPrimitives.WriteUInt32LittleEndian(data.AsSpan(i), word);
    }

    // ------------------------------------------------------------------ random and optimizer states

    private void RngState(RawCheckpoint raw)
    {
        var rng = raw.Tensors.FirstOrDefault(t => t.Name == "rng.torch_cpu");
        if (rng is not null)
        {
            RawCheckpoint Rng(Action<byte[]> edit) => With(raw, c => edit(c.Tensor("rng.torch_cpu").Data));
            RawCheckpoint RngLength(long length) => With(raw, c =>
            {
                var t = c.Tensor("rng.torch_cpu");
                t.Data = Resize(t.Data, length);
                t.Shape = new[] { length };
            });
            int n = rng.Data.Length;
            Add("rng.zeros", Rng(d => Array.Clear(d)));
            Add("rng.0xFF", Rng(d => Array.Fill(d, (byte)0xFF)));
            Add("rng.random", Rng(d => new Random(Seed).NextBytes(d)));
            Add("rng.first-8-bytes-zero", Rng(d => Array.Clear(d, 0, 8)));
            Add("rng.last-8-bytes-zero", Rng(d => Array.Clear(d, n - 8, 8)));
            Add("rng.last-8-bytes-0xFF", Rng(d => Array.Fill(d, (byte)0xFF, n - 8, 8)));
            Add("rng.middle-byte-flipped", Rng(d => d[n / 2] ^= 0xFF));
            foreach (var length in new long[] { 0, 1, 8, n / 2, n - 8, n - 1 }) Add($"rng.cut-to-{length}-bytes", RngLength(length));
            foreach (var extra in new long[] { 1, 8, n }) Add($"rng.lengthened-by-{extra}-bytes", RngLength(n + extra));
            Add("rng.shape=[2,n/2]", With(raw, c => c.Tensor("rng.torch_cpu").Shape = new long[] { 2, n / 2 }));
        }
    }

    private void OptimizerState(RawCheckpoint raw)
    {
        var opt = raw.Tensors.FirstOrDefault(t => t.Name == "optimizer.state");
        if (opt is not null && opt.Dtype == "U8")
        {
            // Today an opaque blob in TorchSharp's optimizer format: cut it, lengthen it, and overwrite its words (counts,
            // lengths and shapes live there) with huge and negative values.
            RawCheckpoint Opt(Action<byte[]> edit) => With(raw, c => edit(c.Tensor("optimizer.state").Data));
            RawCheckpoint OptLength(long length, bool random) => With(raw, c =>
            {
                var t = c.Tensor("optimizer.state");
                var data = Resize(t.Data, length);
                if (random && length > t.Data.Length) new Random(Seed).NextBytes(data.AsSpan(t.Data.Length));
                t.Data = data;
                t.Shape = new[] { length };
            });
            int n = opt.Data.Length;
            foreach (var length in new long[] { 0, 1, 4, 8, 16, 32, 64, 128, n / 4, n / 2, 3 * n / 4, n - 8, n - 1 }.Distinct())
                if (length < n) Add($"optimizer.state.cut-to-{length}-bytes", OptLength(length, false));
            Add("optimizer.state.lengthened-by-1-byte", OptLength(n + 1, false));
            Add("optimizer.state.lengthened-by-4096-zeros", OptLength(n + 4096, false));
            Add("optimizer.state.lengthened-by-4096-random", OptLength(n + 4096, true));
            Add("optimizer.state.zeros", Opt(d => Array.Clear(d)));
            Add("optimizer.state.0xFF", Opt(d => Array.Fill(d, (byte)0xFF)));
            Add("optimizer.state.random", Opt(d => new Random(Seed + 1).NextBytes(d)));
            for (int at = 0; at + 4 <= n; at += at < 256 ? 4 : 64)
            {
                int i = at;
                Add($"optimizer.state.int32@{i}=int.MaxValue", Opt(d => BinaryPrimitives.WriteInt32LittleEndian(d.AsSpan(i), int.MaxValue)));
                Add($"optimizer.state.int32@{i}=-1", Opt(d => BinaryPrimitives.WriteInt32LittleEndian(d.AsSpan(i), -1)));
            }
            for (int at = 0; at + 8 <= n && at < 256; at += 8)
            {
                int i = at;
                Add($"optimizer.state.int64@{i}=long.MaxValue", Opt(d => BinaryPrimitives.WriteInt64LittleEndian(d.AsSpan(i), long.MaxValue)));
                Add($"optimizer.state.int64@{i}=1e9", Opt(d => BinaryPrimitives.WriteInt64LittleEndian(d.AsSpan(i), 1_000_000_000)));
            }
            OptimizerTensorHeaders(raw, opt.Data);
        }
    }

    /// <summary>
    /// Inside TorchSharp's optimizer format each state tensor (Adam's exp_avg, exp_avg_sq) is written as its type code,
    /// its rank and its dimensions, LEB128-encoded, then its bytes. This finds those headers by the model's float shapes
    /// (type 6 = Float32) and breaks them: another type, another rank, and huge, negative or zero dimensions, which a
    /// reader that trusts them would allocate.
    /// </summary>
    private void OptimizerTensorHeaders(RawCheckpoint raw, byte[] blob)
    {
        var shapes = raw.Tensors.Where(t => t.Name.StartsWith("model.", StringComparison.Ordinal) && t.Dtype == "F32" && t.Shape.Length > 0)
            .Select(t => t.Shape).DistinctBy(s => string.Join(",", s)).ToList();
        foreach (var shape in shapes)
        {
            var pattern = new List<byte> { 6, (byte)shape.Length };
            foreach (var d in shape) pattern.AddRange(Leb128((ulong)d));
            var positions = new List<int>();
            for (int at = blob.AsSpan().IndexOf(pattern.ToArray()); at >= 0;)
            {
                positions.Add(at);
                int next = blob.AsSpan(at + 1).IndexOf(pattern.ToArray());
                at = next < 0 ? -1 : at + 1 + next;
            }
            string label = $"optimizer.state.tensor[{string.Join(",", shape)}]";
            for (int k = 0; k < positions.Count; k++)
            {
                int p = positions[k];
                int dimAt = p + 2, dimLength = Leb128((ulong)shape[0]).Length;
                RawCheckpoint Splice(int at, int length, byte[] with) => With(raw, c =>
                {
                    var t = c.Tensor("optimizer.state");
                    t.Data = t.Data[..at].Concat(with).Concat(t.Data[(at + length)..]).ToArray();
                    t.Shape = new long[] { t.Data.Length };
                });
                string where = $"{label}#{k}";
                Add($"{where}.dim0=2^62", Splice(dimAt, dimLength, Leb128(1UL << 62)));
                if (k > 0) continue;   // the rest once per shape
                Add($"{where}.dim0=2^31", Splice(dimAt, dimLength, Leb128(1UL << 31)));
                Add($"{where}.dim0=2^40", Splice(dimAt, dimLength, Leb128(1UL << 40)));
                Add($"{where}.dim0=-1", Splice(dimAt, dimLength, Leb128(ulong.MaxValue)));
                Add($"{where}.dim0=0", Splice(dimAt, dimLength, Leb128(0)));
                Add($"{where}.dim0+1", Splice(dimAt, dimLength, Leb128((ulong)shape[0] + 1)));
                Add($"{where}.rank=0", Splice(p + 1, 1, new byte[] { 0 }));
                Add($"{where}.rank+1", Splice(p + 1, 1, new byte[] { (byte)(shape.Length + 1) }));
                Add($"{where}.rank=64", Splice(p + 1, 1, new byte[] { 64 }));
                Add($"{where}.rank=2^31", Splice(p + 1, 1, Leb128(1UL << 31)));
                foreach (var (name, code) in new (string, byte)[] { ("F64", 7), ("Bool", 11), ("Int64", 4), ("0x7F", 0x7F) })
                    Add($"{where}.type={name}", Splice(p, 1, new byte[] { code }));
            }
        }
    }

    private static byte[] Leb128(ulong value)
    {
        var bytes = new List<byte>();
        do
        {
            byte b = (byte)(value & 0x7F);
            value >>= 7;
            bytes.Add(value == 0 ? b : (byte)(b | 0x80));
        } while (value != 0);
        return bytes.ToArray();
    }

    // ------------------------------------------------------------------ layout

    private void Layout(RawCheckpoint raw, byte[] original)
    {
        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(original);
        long length = original.Length;
        foreach (var (name, value) in new (string, ulong)[]
        {
            ("0", 0), ("1", 1), ("7", 7), ("8", 8), ("N-1", n - 1), ("N+1", n + 1), ("N-8", n - 8), ("N+8", n + 8),
            ("file-8", (ulong)length - 8), ("file-7", (ulong)length - 7), ("file", (ulong)length), ("1e8", 100_000_000),
            ("1e8+1", 100_000_001), ("2^32", 1UL << 32), ("2^63", 1UL << 63), ("2^64-1", ulong.MaxValue),
        })
        {
            var bytes = (byte[])original.Clone();
            BinaryPrimitives.WriteUInt64LittleEndian(bytes, value);
            Add($"layout.header-length={name}", bytes);
        }

        // Truncation: every length up to 16 bytes, then points spread over the header and the data.
        var cuts = new SortedSet<long>(Enumerable.Range(0, 17).Select(i => (long)i));
        long dataStart = 8 + (long)n;
        for (int i = 1; i < 40; i++) cuts.Add(8 + (long)n * i / 40);
        for (int i = 0; i < 30; i++) cuts.Add(dataStart + (length - dataStart) * i / 30);
        cuts.Add(dataStart - 1);
        cuts.Add(length - 1);
        foreach (var cut in cuts.Where(c => c < length)) Add($"layout.truncated-at-{cut}-of-{length}", original[..(int)cut]);

        Add("layout.appended-1-zero-byte", original.Append((byte)0).ToArray());
        Add("layout.appended-8-zero-bytes", original.Concat(new byte[8]).ToArray());
        var garbage = new byte[1000];
        new Random(Seed).NextBytes(garbage);
        Add("layout.appended-1000-random-bytes", original.Concat(garbage).ToArray());
        Add("layout.prepended-8-zero-bytes", new byte[8].Concat(original).ToArray());
        Add("layout.empty-file", Array.Empty<byte>());

        // Whole headers that break the rules (the data section then holds unused bytes, or none).
        string header = raw.HeaderText();
        var headers = new (string Name, string Text)[]
        {
            ("{}", "{}"), ("[]", "[]"), ("null", "null"), ("\"\"", "\"\""), ("0", "0"), ("x", "x"), ("empty", ""),
            ("metadata=null", "{\"__metadata__\":null}"), ("metadata=[]", "{\"__metadata__\":[]}"), ("metadata=\"x\"", "{\"__metadata__\":\"x\"}"),
            ("metadata-values-numbers", "{\"__metadata__\":{\"format_version\":1}}"),
            ("bom", "\uFEFF" + header), ("trailing-garbage", header + "x"), ("leading-newlines", "\n\n" + header),
            ("trailing-comma", header[..^1] + ",}"), ("comment", "/*c*/" + header), ("two-objects", header + header),
            ("nested-100k", new string('[', 100_000) + new string(']', 100_000)),
            ("nested-10k-objects", string.Concat(Enumerable.Repeat("{\"a\":", 10_000)) + "1" + new string('}', 10_000)),
            ("metadata-twice", "{\"__metadata__\":{}," + header[1..]),
            ("nul-inside", header[..^1] + ",\"\u0000\":{}}"),
            ("invalid-utf8", "{\"@@BAD_FF@@\":1}"),
        };
        foreach (var (name, text) in headers) Add($"layout.header={name}", With(raw, c => c.HeaderRaw = text));
        Add("layout.header-unpadded", With(raw, c => c.PadHeader = false));
        Add("layout.header-padded-with-nul", With(raw, c => c.PadByte = 0));
        Add("layout.no-metadata", With(raw, c => c.OmitMetadata = true));
        Add("layout.no-tensors", With(raw, c => c.Tensors.Clear()));
        Add("layout.unused-trailing-bytes(relaid)", With(raw, c => c.Trailer = new byte[16]));
        Add("layout.extra-top-level-member", With(raw, c => c.ExtraTop.Add(("\"fuzz\"", "1"))));
        Add("layout.extra-top-level-object", With(raw, c => c.ExtraTop.Add(("\"__fuzz__\"", "{\"a\":\"b\"}"))));
    }

    // ------------------------------------------------------------------ random byte flips

    private void Flips(byte[] original, int count)
    {
        var random = new Random(Seed + original.Length);
        long headerEnd = Math.Min(original.Length, 8 + (long)BinaryPrimitives.ReadUInt64LittleEndian(original));
        for (int k = 0; k < count; k++)
        {
            var bytes = (byte[])original.Clone();
            string name;
            switch (k % 4)
            {
                case 0:   // one bit anywhere
                {
                    int at = random.Next(bytes.Length), bit = random.Next(8);
                    bytes[at] ^= (byte)(1 << bit);
                    name = $"flip.bit@{at}.{bit}";
                    break;
                }
                case 1:   // one byte of the header (including its length) set to a random value
                case 2:
                {
                    int at = random.Next((int)headerEnd);
                    byte value = (byte)random.Next(256);
                    bytes[at] = value;
                    name = $"flip.header-byte@{at}=0x{value:X2}";
                    break;
                }
                default:  // eight random bytes anywhere
                {
                    var at = Enumerable.Range(0, 8).Select(_ => random.Next(bytes.Length)).ToArray();
                    foreach (var i in at) bytes[i] = (byte)random.Next(256);
                    name = $"flip.8-bytes@{string.Join(",", at)}";
                    break;
                }
            }
            Add(name, bytes);
        }
    }
}
