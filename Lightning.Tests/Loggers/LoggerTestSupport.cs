using System;
using System.Collections.Generic;
using System.IO;
using System.Text.Json;

namespace Lightning.Tests.Loggers;

/// <summary>Hyperparameters given by hand, for testing loggers without a module.</summary>
internal sealed class FixedHyperParameters(params HyperParameter[] values) : IHyperParameters
{
    public IReadOnlyList<HyperParameter> Values { get; } = values;

    public void WriteJson(Utf8JsonWriter writer)
    {
        writer.WriteStartObject();
        foreach (var p in Values)
        {
            switch (p.Value)
            {
                case double d: writer.WriteNumber(p.Name, d); break;
                case int i: writer.WriteNumber(p.Name, i); break;
                case bool b: writer.WriteBoolean(p.Name, b); break;
                default: writer.WriteString(p.Name, p.Value.ToString()); break;
            }
        }
        writer.WriteEndObject();
    }

    /// <summary>A learning rate, a width and an optimizer name with a pipe in its description.</summary>
    public static FixedHyperParameters Sample() => new(
        new HyperParameter("learning_rate", 0.001, "step size"),
        new HyperParameter("hidden", 64, null),
        new HyperParameter("optimizer", "adam", "adam | sgd"));
}

/// <summary>A temporary folder removed after the test.</summary>
internal sealed class TempFolder : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("lightning-loggers-").FullName;

    public string Combine(params string[] parts) => System.IO.Path.Combine([Path, .. parts]);

    public void Dispose() => Directory.Delete(Path, recursive: true);
}
