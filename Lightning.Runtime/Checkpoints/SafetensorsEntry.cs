using System.Collections.Generic;
using static TorchSharp.torch;

namespace Lightning.Checkpoints;

/// <summary>
/// One tensor described by a safetensors header: its name, element type, shape and byte range
/// (<see cref="Begin"/> inclusive, <see cref="End"/> exclusive, relative to the start of the data section).
/// </summary>
/// <param name="Name">The tensor's key in the header.</param>
/// <param name="Dtype">The header dtype name, e.g. <c>F32</c>.</param>
/// <param name="ScalarType">The TorchSharp element type for <paramref name="Dtype"/>.</param>
/// <param name="Shape">The dimensions; empty for a scalar.</param>
/// <param name="Begin">First byte of the tensor in the data section.</param>
/// <param name="End">One past the last byte of the tensor in the data section.</param>
public sealed record SafetensorsEntry(
    string Name, string Dtype, ScalarType ScalarType, IReadOnlyList<long> Shape, long Begin, long End)
{
    /// <summary>The number of data bytes the tensor occupies.</summary>
    public long ByteLength => End - Begin;
}
