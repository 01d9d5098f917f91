using System.Collections.Generic;
using System.IO;
using System.Linq;

namespace Lightning.Cli;

/// <summary>
/// Usage errors of the command line that are found after parsing: a hyperparameter outside its declared range, from the
/// command line or a --config file. Like parse errors they end the process with exit code 2, one error line and a hint.
/// </summary>
internal static class CliUsage
{
    /// <summary>
    /// Checks the ranges of <paramref name="hparams"/> after the command-line values were applied; a value out of range is
    /// a <see cref="CliUsageException"/> naming its option: <c>--batch-size: 0 is out of range; expected at least 1.</c>
    /// </summary>
    public static void CheckRanges<THParams>(THParams hparams, IReadOnlyList<CliOption<THParams>> options)
    {
        if (hparams is not IHyperParameters checkable) return;
        try { checkable.Validate("command line"); }
        catch (HyperParameterRangeException e)
        {
            var option = options.FirstOrDefault(o => o.JsonName == e.Name);
            throw new CliUsageException(option is null ? e.Message : e.ForOption(option.OptionName), e);
        }
    }
}
