using System;
using System.IO;
using System.Runtime.InteropServices;

namespace Lightning.Loops;

/// <summary>
/// SIGTERM and SIGINT while a fit runs (a scheduler preempting the job, Ctrl+C): the first one asks the fit to stop after
/// the current batch and save a checkpoint to resume from; a second one ends the process at once with the same exit code.
/// Registered for the duration of one fit; reading <see cref="Requested"/> per batch is one volatile read.
/// </summary>
internal sealed class FitInterrupts : IDisposable
{
    private readonly PosixSignalRegistration? _term;
    private readonly PosixSignalRegistration? _int;
    private readonly TextWriter _out;
    private volatile int _signal;   // 0: none; else the signal number (15 SIGTERM, 2 SIGINT)

    public FitInterrupts(TextWriter output)
    {
        _out = output;
        if (OperatingSystem.IsWindows() || OperatingSystem.IsBrowser()) return;
        _term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Handle);
        _int = PosixSignalRegistration.Create(PosixSignal.SIGINT, Handle);
    }

    /// <summary>A signal asked the fit to stop.</summary>
    public bool Requested => _signal != 0;

    /// <summary>The signal's name ("SIGTERM", "SIGINT").</summary>
    public string SignalName => _signal == 2 ? "SIGINT" : "SIGTERM";

    /// <summary>The exit code a process stopped by the signal ends with: 128 + the signal number (143 for SIGTERM, 130 for SIGINT).</summary>
    public int ExitCode => 128 + (_signal == 0 ? 15 : _signal);

    /// <summary>Asks the fit to stop as a signal would (data-parallel: another rank was signalled).</summary>
    public void Request(int signal) => _signal = signal;

    private void Handle(PosixSignalContext context)
    {
        int number = context.Signal == PosixSignal.SIGINT ? 2 : 15;
        if (_signal != 0)
        {
            // The second signal: the user (or the scheduler) will not wait for the checkpoint.
            Console.Error.WriteLine($"Received {(number == 2 ? "SIGINT" : "SIGTERM")} again: exiting now without a checkpoint.");
            Environment.Exit(128 + _signal);
        }
        context.Cancel = true;
        _signal = number;
        try { _out.WriteLine($"Received {SignalName}: stopping after the current batch to save a checkpoint (send it again to exit at once)."); }
        catch (Exception e) when (e is IOException or ObjectDisposedException) { /* the output is gone; the stop still happens */ }
    }

    public void Dispose()
    {
        _term?.Dispose();
        _int?.Dispose();
    }
}
