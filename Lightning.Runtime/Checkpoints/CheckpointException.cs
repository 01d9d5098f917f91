using System;

namespace Lightning.Checkpoints;

/// <summary>
/// A checkpoint file could not be written or is not a valid checkpoint. The message always starts with the
/// file path and then names the problem (and the tensor, where one is involved).
/// </summary>
public sealed class CheckpointException : LightningException
{
    /// <summary>Creates the exception for <paramref name="path"/> with a description of the <paramref name="problem"/>.</summary>
    public CheckpointException(string path, string problem)
        : base(Format(path, problem))
    {
        FilePath = path;
    }

    /// <summary>Creates the exception for <paramref name="path"/>, keeping the exception that revealed the problem.</summary>
    public CheckpointException(string path, string problem, Exception inner)
        : base(Format(path, problem), inner)
    {
        FilePath = path;
    }

    /// <summary>The checkpoint file the problem is about.</summary>
    public string FilePath { get; }

    private static string Format(string path, string problem) => $"Checkpoint '{path}': {problem}";
}
