using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using CsvHelper;
using static TorchSharp.torch;

namespace Lightning.Predictions;

/// <summary>
/// Writes predictions as a CSV file with a header, one row per sample (as the Ignite seed's <c>submit.csv</c>):
/// <c>PredictionCsv.Write("submit.csv", ("id", ids), ("label", labels))</c>. Each column is a 1-D tensor (or the
/// per-batch tensors <c>Trainer.Predict</c> returns, concatenated); all columns have the same length. The file is
/// written to a temporary name and renamed, so a failure never leaves half a file.
/// </summary>
public static class PredictionCsv
{
    /// <summary>Writes <paramref name="columns"/> to <paramref name="path"/>.</summary>
    public static void Write(string path, params (string Name, Tensor Values)[] columns)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (columns.Length == 0) throw new LightningException($"PredictionCsv.Write(\"{path}\"): give at least one column.");
        var values = new List<(string Name, string[] Cells)>();
        foreach (var (name, tensor) in columns)
        {
            if (string.IsNullOrWhiteSpace(name)) throw new LightningException($"PredictionCsv.Write(\"{path}\"): a column has no name.");
            if (tensor is null) throw new LightningException($"PredictionCsv.Write(\"{path}\"): column '{name}' is null.");
            if (tensor.dim() != 1)
                throw new LightningException($"PredictionCsv.Write(\"{path}\"): column '{name}' has shape [{string.Join(", ", tensor.shape)}]; expected one value per sample (a 1-D tensor).");
            values.Add((name, Cells(tensor)));
        }
        var length = values[0].Cells.Length;
        foreach (var (name, cells) in values)
            if (cells.Length != length)
                throw new LightningException($"PredictionCsv.Write(\"{path}\"): column '{name}' has {cells.Length} values but '{values[0].Name}' has {length}.");

        var full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        var temp = full + ".tmp-" + Guid.NewGuid().ToString("N");
        try
        {
            using (var writer = new StreamWriter(temp))
            using (var csv = CsvWriter.Create(writer, null, false))
            {
                csv.WriteHeader(values.Select(v => v.Name).ToArray());
                for (int row = 0; row < length; row++)
                {
                    foreach (var (_, cells) in values) csv.WriteField(cells[row]);
                    csv.EndRecord();
                }
                csv.Flush();
            }
            File.Move(temp, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    /// <summary>The outputs of <c>Trainer.Predict</c> (one tensor per batch) as one tensor, in order.</summary>
    public static Tensor Concat(IEnumerable<Tensor> batches)
    {
        var list = batches.ToList();
        if (list.Count == 0) throw new LightningException("PredictionCsv.Concat: there are no predictions (the predict loader was empty).");
        return cat(list.Select(t => t.dim() == 0 ? t.reshape(1) : t).ToList(), 0);
    }

    private static string[] Cells(Tensor tensor)
    {
        using var cpu = tensor.detach().cpu();
        var ci = CultureInfo.InvariantCulture;
        return cpu.dtype switch
        {
            ScalarType.Bool => cpu.data<bool>().Select(v => v ? "1" : "0").ToArray(),
            ScalarType.Int64 => cpu.data<long>().Select(v => v.ToString(ci)).ToArray(),
            ScalarType.Int32 => cpu.data<int>().Select(v => v.ToString(ci)).ToArray(),
            ScalarType.Int16 => cpu.data<short>().Select(v => v.ToString(ci)).ToArray(),
            ScalarType.Int8 => cpu.data<sbyte>().Select(v => v.ToString(ci)).ToArray(),
            ScalarType.Byte => cpu.data<byte>().Select(v => v.ToString(ci)).ToArray(),
            ScalarType.Float64 => cpu.data<double>().Select(v => v.ToString("R", ci)).ToArray(),
            _ => ToFloat(cpu).Select(v => v.ToString("R", ci)).ToArray(),
        };
    }

    private static float[] ToFloat(Tensor t)
    {
        using var f = t.to_type(ScalarType.Float32);
        return f.data<float>().ToArray();
    }
}
