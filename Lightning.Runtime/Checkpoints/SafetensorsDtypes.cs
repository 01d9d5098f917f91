using System.Collections.Generic;
using static TorchSharp.torch;

namespace Lightning.Checkpoints;

/// <summary>The safetensors dtype names this layer reads and writes, with their TorchSharp types and sizes.</summary>
internal static class SafetensorsDtypes
{
    private static readonly (string Name, ScalarType Type, int Size)[] Table =
    {
        ("F64", ScalarType.Float64, 8),
        ("F32", ScalarType.Float32, 4),
        ("F16", ScalarType.Float16, 2),
        ("BF16", ScalarType.BFloat16, 2),
        ("I64", ScalarType.Int64, 8),
        ("I32", ScalarType.Int32, 4),
        ("I16", ScalarType.Int16, 2),
        ("I8", ScalarType.Int8, 1),
        ("U8", ScalarType.Byte, 1),
        ("BOOL", ScalarType.Bool, 1),
    };

    /// <summary>All supported dtype names, in the order of the table above (used in messages).</summary>
    public static IEnumerable<string> Names
    {
        get
        {
            foreach (var row in Table)
            {
                yield return row.Name;
            }
        }
    }

    /// <summary>Looks up a header dtype name (case-sensitive, as the format requires).</summary>
    public static bool TryFromName(string name, out ScalarType type, out int size)
    {
        foreach (var row in Table)
        {
            if (row.Name == name)
            {
                (type, size) = (row.Type, row.Size);
                return true;
            }
        }
        (type, size) = (default, 0);
        return false;
    }

    /// <summary>The header dtype name of a TorchSharp element type, if the format supports it.</summary>
    public static bool TryToName(ScalarType type, out string name)
    {
        foreach (var row in Table)
        {
            if (row.Type == type)
            {
                name = row.Name;
                return true;
            }
        }
        name = "";
        return false;
    }
}
