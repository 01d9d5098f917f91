using System.Linq;
using Lightning.Generators.Helpers;
using Lightning.Generators.Modules;
using Lightning.Generators.Modules.Model;

namespace Lightning.Generators.Cli;

/// <summary>
/// Writes a module's <c>RunCli(args, data)</c>: its hyperparameters as command-line options, handed to
/// Lightning.Cli.LightningCli with the module's Create and LoadFromCheckpoint.
/// </summary>
internal static class CliEmitter
{
    /// <summary>True when the module can have a command line: it trains and can be built from its hyperparameters.</summary>
    public static bool Applies(ModuleSpec spec) =>
        spec.CanCreateFromHparams && spec.Training is not null && spec.ConfigureOptimizersMethod is not null;

    public static void Emit(SourceWriter w, ModuleSpec spec)
    {
        var batch = spec.Training!.Batch.TypeName;
        var name = spec.Name;
        w.Line("// ---- Command line (as LightningCLI): fit, validate, test, predict; see docs/cli.md ----");
        w.Line();
        w.Line("/// <summary>");
        w.Line("/// Runs the command line of " + name + ": subcommands fit, validate, test and predict, every hyperparameter and trainer");
        w.Line("/// option as an option (<c>--max-epochs 5</c>), <c>--config</c> and <c>--ckpt-path</c>. Returns the exit code.");
        w.Line("/// </summary>");
        w.Line("public static int RunCli(string[] args, global::System.Func<HParams, global::Lightning.LightningDataModule<" + batch + ">> data, global::Lightning.Cli.CliSettings<" + name + ", HParams>? settings = null) =>");
        w.Line("    global::Lightning.Cli.LightningCli.Run<" + name + ", HParams, " + batch + ">(args, " + ModuleEmitter.Quote(name) + ", new HParams(), LightningCliHyperparameters, Create,");
        w.Line("        (path, overrides) => LoadFromCheckpoint(path, overrides), h => h.ToJson(), (json, source) => HParams.FromJson(json, source), data, settings);");
        w.Line();
        w.Line("/// <summary>The hyperparameters as command-line options.</summary>");
        w.Line("private static readonly global::Lightning.Cli.CliOption<HParams>[] LightningCliHyperparameters =");
        w.Open();
        foreach (var h in spec.Hyperparameters.Where(h => h.Kind != HyperparameterKind.Unsupported))
        {
            // The range joins the description, so --help shows what a value out of range is told to match.
            var text = h.Range is null ? h.Description : h.Description is null ? h.Range.Summary : h.Description + " (" + h.Range.Summary + ")";
            var description = text is null ? "null" : ModuleEmitter.Quote(text);
            w.Line("global::Lightning.Cli.CliOption<HParams>.Create<" + h.TypeName + ">(" + ModuleEmitter.Quote(h.JsonName) + ", " + description +
                ", h => h." + h.PropertyName + ", (h, v) => h with { " + h.PropertyName + " = v }),");
        }
        w.Close(";");
    }
}
