using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using CsvHelper;

namespace Lightning.Loggers;

/// <summary>
/// The <c>metrics.csv</c> table of <see cref="CsvLogger"/>: columns <c>epoch</c>, <c>step</c>, then every metric name
/// seen so far in ordinal order; one row per <see cref="Append"/>, an empty cell where a row has no value.
/// A row whose names are all known is appended and flushed; a row with a new name rewrites the whole file with the
/// wider header through a temporary file, so the file on disk is always one valid table. The rows are kept in memory
/// for those rewrites (a few dozen bytes per row).
/// </summary>
internal sealed class MetricsCsvFile : IDisposable
{
    /// <summary>RFC 4180 as Lightning's CSVLogger (Python's csv module) writes it: commas, CRLF, quotes when needed.</summary>
    private static readonly CsvWriterOptions Options = CsvWriterOptions.Default with
    {
        FormatProvider = CultureInfo.InvariantCulture,
        Injection = CsvInjection.None,   // metric names and numbers are written as they are ("-1.5" stays a number)
    };

    private readonly string _path;
    private readonly List<string> _columns = new();                       // metric names, ordinal order
    private readonly Dictionary<string, int> _ids = new(StringComparer.Ordinal);   // name -> id, in order of appearance
    private readonly List<Row> _rows = new();
    private int[] _positions = Array.Empty<int>();                          // id -> index in _columns
    private FileStream? _stream;
    private CsvWriter? _writer;
    private bool _closed;

    /// <summary>A table that will be written to <paramref name="path"/> on the first <see cref="Append"/>.</summary>
    public MetricsCsvFile(string path) => _path = path;

    /// <summary>The metric columns so far (after <c>epoch</c> and <c>step</c>), in file order.</summary>
    public IReadOnlyList<string> Columns => _columns;

    /// <summary>Adds one row and puts it on disk before returning. The names <c>epoch</c> and <c>step</c> are the row's own columns, so such metrics are skipped.</summary>
    public void Append(int epoch, long step, IReadOnlyDictionary<string, double> metrics)
    {
        if (_closed) throw new LightningException($"CsvLogger: '{_path}' was closed by Finish; call Start again for a new run.");
        bool widened = false;
        var cells = new List<Cell>(metrics.Count);
        foreach (var (name, value) in metrics)
        {
            if (name is "epoch" or "step") continue;
            if (!_ids.TryGetValue(name, out int id))
            {
                _ids.Add(name, id = _ids.Count);
                int at = _columns.BinarySearch(name, StringComparer.Ordinal);
                _columns.Insert(~at, name);
                widened = true;
            }
            cells.Add(new Cell(id, value));
        }
        var row = new Row(epoch, step, cells.ToArray());
        _rows.Add(row);
        if (widened || _writer is null)
        {
            Rewrite();
            return;
        }
        WriteRow(_writer, row);
        _writer.Flush();
    }

    /// <summary>Closes the file; later appends are refused.</summary>
    public void Close()
    {
        CloseWriter();
        _closed = true;
    }

    /// <inheritdoc/>
    public void Dispose() => Close();

    /// <summary>Writes the header and every row to a temporary file, renames it over the table and reopens it for appending.</summary>
    private void Rewrite()
    {
        CloseWriter();
        AtomicFile.Write(_path, stream =>
        {
            using var csv = CsvWriter.Create(stream, Options, leaveOpen: true);
            var header = new string[2 + _columns.Count];
            header[0] = "epoch";
            header[1] = "step";
            _columns.CopyTo(header, 2);
            csv.WriteHeader(header);
            foreach (var row in _rows) WriteRow(csv, row);
            csv.Flush();
        });
        // Other programs (pandas, tail -f) may read the file while training runs.
        _stream = new FileStream(_path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete);
        _writer = CsvWriter.Create(_stream, Options, leaveOpen: false);
    }

    private void WriteRow(CsvWriter csv, Row row)
    {
        if (_positions.Length != _columns.Count)
        {
            _positions = new int[_columns.Count];
            for (int i = 0; i < _columns.Count; i++) _positions[_ids[_columns[i]]] = i;
        }
        var texts = new string[_columns.Count];
        foreach (var cell in row.Cells) texts[_positions[cell.Id]] = Format(cell.Value);
        csv.WriteField(row.Epoch.ToString(CultureInfo.InvariantCulture));
        csv.WriteField(row.Step.ToString(CultureInfo.InvariantCulture));
        foreach (var text in texts) csv.WriteField(text ?? "");
        csv.EndRecord();
    }

    private void CloseWriter()
    {
        _writer?.Dispose();   // flushes and closes the stream
        _writer = null;
        _stream = null;
    }

    /// <summary>Shortest text that reads back as the same double; non-finite values as Python writes them (pandas reads both).</summary>
    internal static string Format(double value) =>
        double.IsNaN(value) ? "nan"
        : double.IsPositiveInfinity(value) ? "inf"
        : double.IsNegativeInfinity(value) ? "-inf"
        : value.ToString("R", CultureInfo.InvariantCulture);

    private readonly record struct Cell(int Id, double Value);

    private sealed record Row(int Epoch, long Step, Cell[] Cells);
}
