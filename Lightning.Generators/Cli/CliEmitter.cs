using System.Collections.Generic;
using System.Linq;
using Lightning.Generators.Helpers;
using Lightning.Generators.Kernel;
using Lightning.Generators.Hyperparameters.Model;

namespace Lightning.Generators.Cli;

/// <summary>
/// Writes a module's <c>RunCli(args, data)</c>: its hyperparameters as command-line options, handed to
/// Lightning.Cli.LightningCli with the module's Create and LoadFromCheckpoint and the subcommands its steps support.
/// </summary>
internal static class CliEmitter
{
    /// <summary>Writes RunCli for a module that can be built from its hyperparameters (<see cref="CreateMode"/> not None).</summary>
    /// <param name="name">The module class's name.</param>
    /// <param name="batch">The batch type of its steps, or null when no step the trainer can run names one.</param>
    /// <param name="hyperparameters">Its hyperparameters, which become options.</param>
    /// <param name="commands">Its subcommands (<see cref="Commands"/>).</param>
    public static void Emit(SourceWriter w, string name, string? batch, EquatableArray<HyperparameterSpec> hyperparameters, IReadOnlyList<string> commands)
    {
        if (batch is null)
        {
            // No step names the batch type, so the module cannot implement the trainer's interfaces: a stand-in that compiles.
            w.Line("// ---- Command line: not available while " + name + " has errors (see its LTN diagnostics) ----");
            w.Line();
            w.Line("/// <summary>Runs the command line of " + name + " (not available while it has no step the trainer can run).</summary>");
            w.Line("public static int RunCli<TBatch>(string[] args, global::System.Func<HParams, global::Lightning.LightningDataModule<TBatch>> data, global::Lightning.Cli.CliSettings<" + name + ", HParams>? settings = null) =>");
            w.Line("    " + Declarations.NotGenerated(name, "has no step the trainer can run") + ";");
            return;
        }
        w.Line("// ---- Command line (as LightningCLI): " + string.Join(", ", commands) + "; see docs/cli.md ----");
        w.Line();
        w.Line("/// <summary>");
        w.Line("/// Runs the command line of " + name + ": " + (commands.Count == 1 ? "subcommand " : "subcommands ") + Sentence(commands) + ", every hyperparameter and trainer");
        w.Line("/// option as an option (<c>--max-epochs 5</c>), <c>--config</c> and <c>--ckpt-path</c>. Returns the exit code.");
        w.Line("/// </summary>");
        w.Line("public static int RunCli(string[] args, global::System.Func<HParams, global::Lightning.LightningDataModule<" + batch + ">> data, global::Lightning.Cli.CliSettings<" + name + ", HParams>? settings = null) =>");
        w.Line("    global::Lightning.Cli.LightningCli.Run<" + name + ", HParams, " + batch + ">(args, " + Declarations.Quote(name) + ", new HParams(), LightningCliHyperparameters, Create,");
        w.Line("        (path, overrides) => LoadFromCheckpoint(path, overrides), h => h.ToJson(), (json, source) => HParams.FromJson(json, source), data, settings,");
        w.Line("        " + string.Join(" | ", commands.Select(c => "global::Lightning.Cli.CliCommands." + char.ToUpperInvariant(c[0]) + c.Substring(1))) + ");");
        w.Line();
        w.Line("/// <summary>The hyperparameters as command-line options.</summary>");
        w.Line("private static readonly global::Lightning.Cli.CliOption<HParams>[] LightningCliHyperparameters =");
        w.Open();
        foreach (var h in hyperparameters.Where(h => h.Kind != HyperparameterKind.Unsupported))
        {
            // The range joins the description, so --help shows what a value out of range is told to match.
            var text = h.Range is null ? h.Description : h.Description is null ? h.Range.Summary : h.Description + " (" + h.Range.Summary + ")";
            var description = text is null ? "null" : Declarations.Quote(text);
            w.Line("global::Lightning.Cli.CliOption<HParams>.Create<" + h.TypeName + ">(" + Declarations.Quote(h.JsonName) + ", " + description +
                ", h => h." + h.PropertyName + ", (h, v) => h with { " + h.PropertyName + " = v }),");
        }
        w.Close(";");
    }

    /// <summary>The subcommands the module's steps support: fit always, validate, test and predict with their steps.</summary>
    public static IReadOnlyList<string> Commands(bool validation, bool test, bool predict)
    {
        var commands = new List<string> { "fit" };
        if (validation) commands.Add("validate");
        if (test) commands.Add("test");
        if (predict) commands.Add("predict");
        return commands;
    }

    private static string Sentence(IReadOnlyList<string> items) =>
        items.Count == 1 ? items[0] : string.Join(", ", items.Take(items.Count - 1)) + " and " + items[items.Count - 1];
}
