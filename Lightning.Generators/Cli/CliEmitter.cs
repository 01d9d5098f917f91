using System.Collections.Generic;
using System.Linq;
using Lightning.Generators.Helpers;
using Lightning.Generators.Kernel;
using Lightning.Generators.Hyperparameters.Model;

namespace Lightning.Generators.Cli;

/// <summary>
/// Writes a module's <c>RunCli(args, data)</c>, a call of Lightning.Cli.LightningCli.Run, and the module's implementation of
/// <c>Lightning.Cli.ICliModule</c>, where Run reads the rest: the module's name, the subcommands its steps support, its
/// hyperparameters as command-line options, their defaults and JSON reading, and a typed call of the trainer's Predict.
/// (Create and LoadFromCheckpoint, written with the hyperparameters, implement the interface's other two members.)
/// </summary>
internal static class CliEmitter
{
    private const string CliModule = "global::Lightning.Cli.ICliModule";

    /// <summary>
    /// The interface a module with a <c>RunCli</c> implements, as its declaration names it (in the base list, where
    /// the nested <c>HParams</c> is named through the class).
    /// </summary>
    public static string Interface(string name, string batch) => CliModule + "<" + name + ", " + name + ".HParams, " + batch + ">";

    /// <summary>Writes RunCli for a module that can be built from its hyperparameters (<see cref="CreateMode"/> not None).</summary>
    /// <param name="name">The module class's name.</param>
    /// <param name="batch">The batch type of its steps, or null when no step the trainer can run names one.</param>
    /// <param name="hyperparameters">Its hyperparameters, which become options.</param>
    /// <param name="commands">Its subcommands (<see cref="Commands"/>).</param>
    /// <param name="predictOutput">The output type of its predict step when it returns one (then <c>predict</c> is a subcommand), else null.</param>
    public static void Emit(SourceWriter w, string name, string? batch, EquatableArray<HyperparameterSpec> hyperparameters, IReadOnlyList<string> commands,
        string? predictOutput)
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
        w.Line("    global::Lightning.Cli.LightningCli.Run<" + name + ", HParams, " + batch + ">(args, data, settings);");
        w.Line();
        // Explicit implementations: they add nothing to the class's own members, so they cannot clash with the user's.
        var self = CliModule + "<" + name + ", HParams, " + batch + ">";
        w.Line("// What LightningCli.Run reads from " + name + " (" + CliModule.Replace("global::", "") + "); Create and LoadFromCheckpoint above implement the rest.");
        w.Line();
        w.Line("static string " + self + ".CliName => " + Declarations.Quote(name) + ";");
        w.Line();
        w.Line("static global::Lightning.Cli.CliCommands " + self + ".Commands =>");
        w.Line("    " + string.Join(" | ", commands.Select(c => "global::Lightning.Cli.CliCommands." + char.ToUpperInvariant(c[0]) + c.Substring(1))) + ";");
        w.Line();
        w.Line("static global::System.Collections.Generic.IReadOnlyList<global::Lightning.Cli.CliOption<HParams>> " + self + ".HyperparameterOptions => LightningCliHyperparameters;");
        w.Line();
        w.Line("static HParams " + self + ".DefaultHParams => new HParams();");
        w.Line();
        w.Line("static HParams " + self + ".HParamsFromJson(string json, string source) => HParams.FromJson(json, source);");
        w.Line();
        if (predictOutput is not null)
        {
            w.Line("/// <summary>The predict step's outputs over the data's predict loader: trainer.Predict with the output type " + Xml(predictOutput.Replace("global::", "")) + ".</summary>");
            w.Line("static global::System.Collections.Generic.IReadOnlyList<object?> " + self + ".Predict(global::Lightning.Trainer trainer, " + name + " model, global::Lightning.LightningDataModule<" + batch + "> data) =>");
            w.Line("    trainer.Predict<" + batch + ", " + predictOutput + ">(model, data).ConvertAll(static output => (object?)output);");
            w.Line();
        }
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

    private static string Xml(string text) => text.Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;");

    private static string Sentence(IReadOnlyList<string> items) =>
        items.Count == 1 ? items[0] : string.Join(", ", items.Take(items.Count - 1)) + " and " + items[items.Count - 1];
}
