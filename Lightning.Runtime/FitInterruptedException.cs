namespace Lightning;

/// <summary>
/// A fit stopped by SIGTERM or SIGINT (preemption, Ctrl+C) after saving a checkpoint to resume from. The command line
/// catches it, prints how to resume and exits with <see cref="ExitCode"/>; a program calling <c>Fit</c> can do the same.
/// </summary>
public sealed class FitInterruptedException : LightningException
{
    internal FitInterruptedException(string signal, int exitCode, string? checkpointPath, string message) : base(message)
    {
        Signal = signal;
        ExitCode = exitCode;
        CheckpointPath = checkpointPath;
    }

    /// <summary>"SIGTERM" or "SIGINT".</summary>
    public string Signal { get; }

    /// <summary>128 + the signal number: 143 for SIGTERM, 130 for SIGINT.</summary>
    public int ExitCode { get; }

    /// <summary>The checkpoint written to resume from (<c>Fit(..., ckptPath: CheckpointPath)</c>, <c>--ckpt-path</c>), or null when none could be.</summary>
    public string? CheckpointPath { get; }
}
