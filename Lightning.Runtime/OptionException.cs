using System.Text.Json;

namespace Lightning;

/// <summary>
/// A setting with a value outside what it allows: a <see cref="TrainerOptions"/> property or a module's
/// hyperparameter. It names the setting in the API's spelling (<c>TrainerOptions.AccumulateGradBatches</c>) and keeps
/// its snake_case name (<c>accumulate_grad_batches</c>), so the command line can name its option
/// (<c>--accumulate-grad-batches</c>) with the same rule and the same words.
/// </summary>
public sealed class OptionException : LightningException
{
    /// <summary>Creates the exception: <paramref name="owner"/>.<paramref name="member"/> <paramref name="problem"/> (e.g. "is 0; expected at least 1").</summary>
    public OptionException(string owner, string member, string problem)
        : base($"{owner}.{member} {problem}.")
    {
        JsonName = JsonNamingPolicy.SnakeCaseLower.ConvertName(member);
        Problem = problem;
    }

    /// <summary>The setting's snake_case name, as in config files (<c>accumulate_grad_batches</c>).</summary>
    public string JsonName { get; }

    /// <summary>What is wrong, e.g. <c>is 0; expected at least 1</c>.</summary>
    public string Problem { get; }
}
