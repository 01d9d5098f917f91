namespace Lightning.Cli;

/// <summary>
/// A command-line or config-file value the command cannot run with: the command line prints its one-line message,
/// a pointer to <c>--help</c>, and exits with code 2.
/// </summary>
public sealed class CliUsageException : LightningException
{
    /// <summary>Creates the exception with its one-line <paramref name="message"/>, naming the option or file.</summary>
    public CliUsageException(string message) : base(message) { }

    /// <summary>Creates the exception with its one-line <paramref name="message"/>, keeping the exception that revealed the problem.</summary>
    public CliUsageException(string message, System.Exception inner) : base(message, inner) { }
}
