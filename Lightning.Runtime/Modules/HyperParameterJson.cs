using System;
using System.Globalization;
using System.IO;
using System.Text;
using System.Text.Json;

namespace Lightning;

/// <summary>
/// Reading and writing hyperparameters as JSON with System.Text.Json's reader and writer (no reflection).
/// The generated <c>HParams.FromJson</c> / <c>ToJson</c> of each module call these helpers.
/// </summary>
public static class HyperParameterJson
{
    /// <summary>Serializes <paramref name="hparams"/> as an indented JSON object.</summary>
    public static string ToJson(IHyperParameters hparams)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
            hparams.WriteJson(writer);
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    /// <summary>Parses <paramref name="json"/>, which must be one JSON object; <paramref name="source"/> names it in errors.</summary>
    public static JsonDocument ParseObject(string json, string source)
    {
        JsonDocument doc;
        try { doc = JsonDocument.Parse(json, new JsonDocumentOptions { AllowDuplicateProperties = false }); }
        catch (JsonException e) { throw new LightningException($"{source}: not valid JSON ({e.Message}).", e); }
        var kind = doc.RootElement.ValueKind;
        if (kind != JsonValueKind.Object)
        {
            doc.Dispose();
            throw new LightningException($"{source}: expected a JSON object of hyperparameters, got {kind}.");
        }
        return doc;
    }

    /// <summary>An unknown hyperparameter name.</summary>
    public static LightningException Unknown(string source, string name, string expected) =>
        new($"{source}: unknown hyperparameter '{name}'; expected one of: {expected}.");

    public static bool ReadBoolean(JsonProperty p, string source) => p.Value.ValueKind switch
    {
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        _ => throw Expected(p, source, "true or false"),
    };

    public static int ReadInt32(JsonProperty p, string source) =>
        p.Value.ValueKind == JsonValueKind.Number && p.Value.TryGetInt32(out var v) ? v : throw Expected(p, source, "a whole number (32-bit)");

    public static long ReadInt64(JsonProperty p, string source) =>
        p.Value.ValueKind == JsonValueKind.Number && p.Value.TryGetInt64(out var v) ? v : throw Expected(p, source, "a whole number (64-bit)");

    public static float ReadSingle(JsonProperty p, string source) =>
        p.Value.ValueKind == JsonValueKind.Number && p.Value.TryGetSingle(out var v) ? v : throw Expected(p, source, "a number");

    public static double ReadDouble(JsonProperty p, string source) =>
        p.Value.ValueKind == JsonValueKind.Number && p.Value.TryGetDouble(out var v) ? v : throw Expected(p, source, "a number");

    public static string ReadString(JsonProperty p, string source) =>
        p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString()! : throw Expected(p, source, "a string");

    public static TEnum ReadEnum<TEnum>(JsonProperty p, string source) where TEnum : struct, Enum
    {
        // Lightning's enums by their Lightning spelling ("max", "16-mixed"), as on the command line; a user's by its C# names.
        var spelling = LightningSpelling.Of(typeof(TEnum));
        if (p.Value.ValueKind == JsonValueKind.String)
        {
            if (spelling is not null)
            {
                if (spelling.TryParse(p.Value.GetString(), out var value)) return (TEnum)value!;
            }
            else
            {
                foreach (var name in Enum.GetNames<TEnum>())
                    if (string.Equals(name, p.Value.GetString(), StringComparison.OrdinalIgnoreCase)) return Enum.Parse<TEnum>(name);
            }
        }
        throw Expected(p, source, spelling?.Expected ?? "one of " + string.Join(", ", Enum.GetNames<TEnum>()));
    }

    public static void Write(Utf8JsonWriter w, string name, bool value) => w.WriteBoolean(name, value);
    public static void Write(Utf8JsonWriter w, string name, int value) => w.WriteNumber(name, value);
    public static void Write(Utf8JsonWriter w, string name, long value) => w.WriteNumber(name, value);
    public static void Write(Utf8JsonWriter w, string name, float value) => w.WriteNumber(name, value);
    public static void Write(Utf8JsonWriter w, string name, double value) => w.WriteNumber(name, value);
    public static void Write(Utf8JsonWriter w, string name, string value) => w.WriteString(name, value);
    public static void WriteEnum<TEnum>(Utf8JsonWriter w, string name, TEnum value) where TEnum : struct, Enum => w.WriteString(name, LightningSpelling.Of(typeof(TEnum))?.Format(value) ?? value.ToString());

    private static LightningException Expected(JsonProperty p, string source, string what)
    {
        var raw = p.Value.GetRawText();
        if (raw.Length > 40) raw = raw[..40] + "...";
        return new LightningException($"{source}: hyperparameter '{p.Name}' expected {what}, got {raw}.");
    }
}
