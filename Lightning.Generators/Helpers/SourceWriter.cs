using System.Text;

namespace Lightning.Generators.Helpers;

/// <summary>A small indented text writer for generated C#: four spaces per level, braces on their own lines.</summary>
internal sealed class SourceWriter
{
    private readonly StringBuilder _sb = new();
    private int _indent;

    /// <summary>Writes one line at the current indentation (an empty line when <paramref name="line"/> is empty).</summary>
    public SourceWriter Line(string line = "")
    {
        if (line.Length > 0) _sb.Append(' ', _indent * 4).Append(line);
        _sb.Append('\n');
        return this;
    }

    /// <summary>Writes several lines, each at the current indentation.</summary>
    public SourceWriter Lines(string text)
    {
        foreach (var line in text.Replace("\r\n", "\n").Split('\n')) Line(line);
        return this;
    }

    /// <summary>Writes <c>{</c> and indents.</summary>
    public SourceWriter Open()
    {
        Line("{");
        _indent++;
        return this;
    }

    /// <summary>Unindents and writes <c>}</c> (plus <paramref name="suffix"/>, e.g. ";").</summary>
    public SourceWriter Close(string suffix = "")
    {
        _indent--;
        Line("}" + suffix);
        return this;
    }

    public override string ToString() => _sb.ToString();
}
