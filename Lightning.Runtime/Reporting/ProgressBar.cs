using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Text;

namespace Lightning.Reporting;

/// <summary>
/// A one-line progress bar with batches done, it/s and the metrics logged with <c>progBar: true</c>. In a
/// terminal it redraws in place at most ten times a second; when the output is a file or a pipe it writes a
/// plain line at most every 15 seconds, so logs do not flood. Metrics are read from the device only when a
/// line is drawn.
/// </summary>
public sealed class ProgressBar
{
    private static readonly long RedrawTicks = Stopwatch.Frequency / 10;
    private static readonly long PlainLineTicks = Stopwatch.Frequency * 15;
    private const int BarWidth = 20;

    private readonly TextWriter _out;
    private readonly bool _interactive;
    private readonly List<KeyValuePair<string, double>> _values = new();
    private readonly StringBuilder _line = new();
    private string _title = "";
    private long? _total;
    private long _start, _lastDraw;
    private int _lastWidth;

    public ProgressBar(TextWriter output, bool interactive)
    {
        _out = output;
        _interactive = interactive;
    }

    /// <summary>True when the bar redraws in place (a terminal).</summary>
    public bool Interactive => _interactive;

    /// <summary>Starts a bar titled <paramref name="title"/> over <paramref name="total"/> batches (null when unknown).</summary>
    public void Start(string title, long? total)
    {
        _title = title;
        _total = total;
        _start = _lastDraw = Stopwatch.GetTimestamp();
    }

    /// <summary>Called after each batch; draws when due.</summary>
    public void Update(long done, MetricStore metrics)
    {
        long now = Stopwatch.GetTimestamp();
        long due = _interactive ? RedrawTicks : PlainLineTicks;
        if (now - _lastDraw < due && done != _total) return;
        _lastDraw = now;
        _values.Clear();
        metrics.ProgressBarValues(_values);
        Draw(done, now);
    }

    /// <summary>Clears the bar (in a terminal) so the next line starts clean.</summary>
    public void Clear()
    {
        if (!_interactive || _lastWidth == 0) return;
        _out.Write('\r');
        _out.Write(new string(' ', _lastWidth));
        _out.Write('\r');
        _out.Flush();
        _lastWidth = 0;
    }

    private void Draw(long done, long now)
    {
        var ci = CultureInfo.InvariantCulture;
        double seconds = (now - _start) / (double)Stopwatch.Frequency;
        double rate = seconds > 0 ? done / seconds : 0;
        _line.Clear().Append(_title).Append(' ');
        if (_total is long total && total > 0)
        {
            int filled = (int)Math.Min(BarWidth, done * BarWidth / total);
            _line.Append(done.ToString(ci)).Append('/').Append(total.ToString(ci)).Append(" [")
                 .Append('#', filled).Append('.', BarWidth - filled).Append("] ")
                 .Append((100.0 * done / total).ToString("0", ci)).Append('%');
        }
        else _line.Append(done.ToString(ci));
        _line.Append(' ').Append(rate.ToString(rate >= 100 ? "0" : "0.0", ci)).Append("it/s");
        foreach (var (name, value) in _values)
            _line.Append(' ').Append(name).Append('=').Append(MetricFormat.Short(value));

        if (_interactive)
        {
            var text = _line.ToString();
            _out.Write('\r');
            _out.Write(text);
            if (_lastWidth > text.Length) _out.Write(new string(' ', _lastWidth - text.Length));
            _lastWidth = text.Length;
        }
        else _out.WriteLine(_line.ToString());
        _out.Flush();
    }
}
