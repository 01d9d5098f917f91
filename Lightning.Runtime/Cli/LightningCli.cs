using System;
using System.Collections.Generic;
using System.CommandLine;
using System.IO;
using System.Linq;
using System.Text.Json;
using Lightning.Callbacks;
using Lightning.Checkpoints;
using Lightning.Predictions;
using TorchSharp;
using Lightning.Data;
using Lightning.Reporting;

namespace Lightning.Cli;

/// <summary>What a program adds to a module's generated command line (all optional).</summary>
public sealed class CliSettings<TModule, THParams>
{
    /// <summary>Callbacks for <c>fit</c>, made from the parsed hyperparameters (e.g. a ModelCheckpoint and EarlyStopping).</summary>
    public Func<THParams, IReadOnlyList<ICallback>>? Callbacks { get; init; }

    /// <summary>Runs after <c>fit</c> (e.g. test the best checkpoint); returns the exit code.</summary>
    public Func<Trainer, TModule, int>? AfterFit { get; init; }

    /// <summary>Where messages go (default: the console); also the trainer's output unless a test redirects it.</summary>
    public TextWriter? Output { get; init; }

    /// <summary>The trainer options before the config file and the command line change them.</summary>
    public TrainerOptions? TrainerDefaults { get; init; }
}

/// <summary>The subcommands a module's command line offers: those its steps support (<see cref="ICliModule{TSelf, THParams, TBatch}.Commands"/>).</summary>
[Flags]
public enum CliCommands
{
    /// <summary><c>fit</c>: train (every module).</summary>
    Fit = 1,
    /// <summary><c>validate</c>: run the <c>[ValidationStep]</c>.</summary>
    Validate = 2,
    /// <summary><c>test</c>: run the <c>[TestStep]</c>.</summary>
    Test = 4,
    /// <summary><c>predict</c>: run the <c>[PredictStep]</c>.</summary>
    Predict = 8,
    /// <summary>Every subcommand.</summary>
    All = Fit | Validate | Test | Predict,
}

/// <summary>
/// Lightning's <c>LightningCLI</c>: subcommands <c>fit</c>, <c>validate</c>, <c>test</c>, <c>predict</c>, each with every
/// hyperparameter of the module and every trainer option (<c>--lr 3e-4 --max-epochs 5</c>), <c>--config run.json</c>
/// (command-line values override it) and <c>--ckpt-path best|last|PATH</c>. <c>fit</c> writes the effective config to
/// <c>config.json</c> in the run's folder; passing it back with <c>--config</c> repeats the run. The generated
/// <c>Foo.RunCli(args, data)</c> calls <see cref="Run"/>, which reads the rest from Foo's <see cref="ICliModule{TSelf, THParams, TBatch}"/>
/// members: its hyperparameter options and the subcommands its steps support (a module without a <c>[TestStep]</c> has no <c>test</c>).
/// </summary>
public static class LightningCli
{
    /// <summary>
    /// Parses <paramref name="args"/> and runs the subcommand; returns the process exit code (2 for bad arguments, such as a
    /// subcommand the module's steps do not support). What it needs to know about the module (name, subcommands,
    /// hyperparameter options, Create, LoadFromCheckpoint, ...) are <typeparamref name="TModule"/>'s static members.
    /// </summary>
    /// <param name="args">The process's arguments.</param>
    /// <param name="data">Makes the data from the parsed hyperparameters.</param>
    /// <param name="settings">What the program adds (callbacks, AfterFit, trainer defaults, output).</param>
    public static int Run<TModule, THParams, TBatch>(
        string[] args,
        Func<THParams, LightningDataModule<TBatch>> data,
        CliSettings<TModule, THParams>? settings = null)
        where TModule : ICliModule<TModule, THParams, TBatch>
        where THParams : IHyperParameters
    {
        // What the generated code knows about the module.
        var moduleName = TModule.CliName;
        var commands = TModule.Commands;
        var defaults = TModule.DefaultHParams;
        var hyperparameters = TModule.HyperparameterOptions;
        settings ??= new CliSettings<TModule, THParams>();
        var output = settings.Output ?? Console.Out;
        var trainerDefaults = settings.TrainerDefaults ?? new TrainerOptions();
        var root = new RootCommand($"Train and evaluate {moduleName} with Lightning (as LightningCLI).");
        var config = new Option<string?>("--config") { Description = "A JSON config ({\"hparams\": {...}, \"trainer\": {...}}), e.g. the config.json a fit wrote; options given here override it", Recursive = true };
        var ckpt = new Option<string?>("--ckpt-path") { Description = "fit: resume from this checkpoint; validate/test/predict: load the weights (best, last or a path)", Recursive = true };
        root.Add(config);
        root.Add(ckpt);
        foreach (var h in hyperparameters) { h.ShowDefault(defaults); root.Add(h.Option); }
        foreach (var t in TrainerCliOptions.All) { t.ShowDefault(trainerDefaults); root.Add(t.Option); }

        int exit = 0;
        var error = settings.Output ?? Console.Error;
        void Command(string name, string description, Func<ParseResult, int> action)
        {
            // Only the subcommands the module's steps support (fit, validate, test, predict as named).
            if (!commands.HasFlag(Enum.Parse<CliCommands>(name, ignoreCase: true))) return;
            var command = new Command(name, description);
            command.SetAction(result =>
            {
                // Bad input ends with one line naming what was wrong, never a stack trace.
                try { exit = action(result); }
                catch (FitInterruptedException e)
                {
                    // Preempted or Ctrl+C: the checkpoint is written; say how to go on, exit 128 + the signal.
                    error.WriteLine(e.Message);
                    if (e.CheckpointPath is string path) error.WriteLine("Resume with: " + ResumeCommand.For(args, path));
                    exit = e.ExitCode;
                }
                catch (LightningException e) when (e is CliUsageException or HyperParameterRangeException)
                {
                    error.WriteLine("error: " + e.Message);
                    error.WriteLine(HelpHint);
                    exit = 2;
                }
                catch (LightningException e)
                {
                    error.WriteLine("error: " + e.Message);
                    exit = 1;
                }
                catch (Exception e) when (e is not (OutOfMemoryException or StackOverflowException))
                {
                    error.WriteLine($"error: {name} failed: {e.GetType().Name}: {OneLine(e.Message)}");
                    exit = 1;
                }
                return exit;
            });
            root.Add(command);
        }

        // The config file, read once: its hparams section (applied over the defaults or a checkpoint's values) and trainer options.
        (JsonElement? Hparams, TrainerOptions Trainer, string? File, JsonDocument? Document) Config(ParseResult result)
        {
            var trainer = trainerDefaults;
            if (result.GetValue(config) is not string file) return (null, trainer, null, null);
            if (Directory.Exists(file)) throw new CliUsageException($"--config: '{file}' is a folder; expected a JSON file.");
            if (!File.Exists(file)) throw new CliUsageException($"--config: the file '{file}' does not exist.");
            var document = ParseConfig(file);
            JsonElement? hparamsSection = null;
            if (document.RootElement.ValueKind != JsonValueKind.Object)
                throw new CliUsageException($"{file}: expected a JSON object with \"hparams\" and \"trainer\" sections.");
            foreach (var property in document.RootElement.EnumerateObject())
            {
                switch (property.Name)
                {
                    case "hparams":
                        if (property.Value.ValueKind != JsonValueKind.Object) throw new CliUsageException($"{file}: 'hparams' must be an object.");
                        hparamsSection = property.Value;
                        break;
                    case "trainer":
                        if (property.Value.ValueKind != JsonValueKind.Object) throw new CliUsageException($"{file}: 'trainer' must be an object.");
                        foreach (var p in property.Value.EnumerateObject())
                        {
                            var option = TrainerCliOptions.All.FirstOrDefault(o => o.JsonName == p.Name) ?? throw new CliUsageException(
                                $"{file}: 'trainer.{p.Name}' is not a trainer option (options: {string.Join(", ", TrainerCliOptions.All.Select(o => o.JsonName))}).");
                            trainer = option.ApplyJson(trainer, p.Value, file);
                        }
                        break;
                    default: throw new CliUsageException($"{file}: unknown section '{property.Name}'; expected \"hparams\" and \"trainer\".");
                }
            }
            return (hparamsSection, trainer, file, document);
        }

        // Hyperparameters: the start values (defaults, or a checkpoint's), then the config file's, then the command line's.
        THParams Hparams(THParams start, ParseResult result, JsonElement? section, string? file)
        {
            var hparams = start;
            if (section is JsonElement values)
            {
                try { hparams = TModule.HParamsFromJson(Overlay(HyperParameterJson.ToJson(start), values), file + ": hparams"); }
                catch (LightningException e) when (e is not CliUsageException) { throw new CliUsageException(e.Message); }
            }
            foreach (var h in hyperparameters) hparams = h.ApplyCommandLine(hparams, result);
            CliUsage.CheckRanges(hparams, hyperparameters);
            return hparams;
        }

        TrainerOptions Trainer(ParseResult result, TrainerOptions fromConfig)
        {
            var trainer = fromConfig;
            foreach (var t in TrainerCliOptions.All) trainer = t.ApplyCommandLine(trainer, result);
            if (settings.Output is not null) trainer = trainer with { Output = settings.Output };
            // The trainer's own range rule, reported with the option's name.
            try { trainer.Validate(); }
            catch (OptionException e)
            {
                var option = TrainerCliOptions.All.FirstOrDefault(o => o.JsonName == e.JsonName);
                throw new CliUsageException(option is null ? e.Message : $"{option.OptionName} {e.Problem}.");
            }
            return trainer;
        }

        // The module: new from the hyperparameters, or, with --ckpt-path, rebuilt from the checkpoint's saved hyperparameters
        // (values given in the config file or on the command line override them, and are listed) and weights.
        (TModule Model, THParams Hparams, TrainerOptions Options, string? Checkpoint) Module(ParseResult result)
        {
            var (section, fromConfig, file, document) = Config(result);
            using (document)
            {
                var options = Trainer(result, fromConfig);
                var hparams = Hparams(defaults, result, section, file);
                // Seeded before the module is built, so its initial weights repeat (LightningCLI's seed_everything).
                if (options.Seed is long seed) Seed.Everything(seed);
                if (result.GetValue(ckpt) is not string path) return (TModule.Create(hparams), hparams, options, null);
                var resolved = ResolveCheckpoint(path, options, settings.Callbacks?.Invoke(hparams) ?? Array.Empty<ICallback>());
                var model = TModule.LoadFromCheckpoint(resolved, saved =>
                {
                    hparams = Hparams(saved, result, section, file);
                    var changed = Changed(HyperParameterJson.ToJson(saved), HyperParameterJson.ToJson(hparams));
                    output.WriteLine(changed.Count == 0
                        ? $"Hyperparameters from {resolved}"
                        : $"Hyperparameters from {resolved}, except {string.Join(", ", changed)} (given)");
                    return hparams;
                });
                output.WriteLine($"Weights from {resolved}");
                return (model, hparams, options, resolved);
            }
        }

        var lrFind = LrFindCli.CreateOption();
        Command("fit", $"Train {moduleName} (validating as configured).", result =>
        {
            var (model, hparams, options, resume) = Module(result);
            if (result.GetValue(lrFind))
                (model, hparams, options) = LrFindCli.Apply<TModule, THParams, TBatch>(model, hparams, options, resume, data, output);
            var callbacks = settings.Callbacks?.Invoke(hparams) ?? Array.Empty<ICallback>();
            var saveConfig = new SaveConfigCallback(w => WriteConfig(w, HyperParameterJson.ToJson(hparams), options));
            var trainer = new Trainer(options with { Callbacks = callbacks.Concat(options.Callbacks).Append(saveConfig).ToList() });
            trainer.Fit(model, data(hparams), resume);
            if (saveConfig.Path is not null) output.WriteLine($"Config {saveConfig.Path}");
            return settings.AfterFit?.Invoke(trainer, model) ?? 0;
        });

        root.Subcommands.FirstOrDefault(c => c.Name == "fit")?.Add(lrFind);

        Command("validate", $"Run {moduleName}'s validation step.", result =>
        {
            var (model, hparams, options, _) = Module(result);
            if (model is not IValidationModule<TBatch> validation) throw new LightningException($"{moduleName} has no [ValidationStep] method.");
            Print(output, new Trainer(options).Validate(validation, data(hparams)));
            return 0;
        });
        Command("test", $"Run {moduleName}'s test step.", result =>
        {
            var (model, hparams, options, _) = Module(result);
            if (model is not ITestModule<TBatch> test) throw new LightningException($"{moduleName} has no [TestStep] method.");
            Print(output, new Trainer(options).Test(test, data(hparams)));
            return 0;
        });
        Command("predict", $"Run {moduleName}'s predict step; tensor outputs go to predictions.csv in the run's folder.", result =>
        {
            var (model, hparams, options, _) = Module(result);
            var trainer = new Trainer(options);
            // The module's own typed call of trainer.Predict (its output type is known to the generated code).
            var outputs = TModule.Predict(trainer, model, data(hparams));
            output.WriteLine($"{outputs.Count} prediction batches");
            if (outputs.Count > 0 && outputs.All(o => o is torch.Tensor))
            {
                var path = Path.Combine(trainer.LogDir, "predictions.csv");
                PredictionCsv.Write(path, ("prediction", PredictionCsv.Concat(outputs.Cast<torch.Tensor>()).flatten()));
                output.WriteLine($"Predictions {path}");
            }
            return 0;
        });

        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            // One line per problem and a pointer to --help, not the whole help text.
            foreach (var e in parsed.Errors) error.WriteLine("error: " + OneLine(e.Message));
            error.WriteLine(HelpHint);
            return 2;
        }
        int code = parsed.Invoke(new InvocationConfiguration
        {
            EnableDefaultExceptionHandler = false,
            Output = output,
            Error = error,
        });
        return code != 0 ? code : exit;
    }

    /// <summary>The line printed after a command-line error.</summary>
    public const string HelpHint = "Run with --help to see the options.";

    private static string OneLine(string text) => text.ReplaceLineEndings(" ").Trim();

    /// <summary><paramref name="baseJson"/>'s object with <paramref name="values"/>' properties put over it (and any new ones added).</summary>
    private static string Overlay(string baseJson, JsonElement values)
    {
        using var document = JsonDocument.Parse(baseJson);
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            foreach (var p in document.RootElement.EnumerateObject())
                if (!values.TryGetProperty(p.Name, out _)) p.WriteTo(writer);
            foreach (var p in values.EnumerateObject()) p.WriteTo(writer);
            writer.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>The hyperparameters whose values differ between two JSON objects, as <c>name=new (checkpoint: old)</c>.</summary>
    private static List<string> Changed(string beforeJson, string afterJson)
    {
        using var before = JsonDocument.Parse(beforeJson);
        using var after = JsonDocument.Parse(afterJson);
        var changed = new List<string>();
        foreach (var p in after.RootElement.EnumerateObject())
        {
            var old = before.RootElement.TryGetProperty(p.Name, out var b) ? b.GetRawText() : "none";
            if (old != p.Value.GetRawText()) changed.Add($"{p.Name}={p.Value.GetRawText()} (checkpoint: {old})");
        }
        return changed;
    }

    private static JsonDocument ParseConfig(string file)
    {
        try { return JsonDocument.Parse(File.ReadAllText(file), new JsonDocumentOptions { AllowDuplicateProperties = false }); }
        catch (JsonException e) { throw new CliUsageException($"--config: '{file}' is not valid JSON without duplicate keys ({OneLine(e.Message)})."); }
    }

    private static void WriteConfig(Utf8JsonWriter writer, string hparamsJson, TrainerOptions options)
    {
        writer.WriteStartObject();
        writer.WritePropertyName("hparams");
        using (var document = JsonDocument.Parse(hparamsJson)) document.RootElement.WriteTo(writer);
        writer.WriteStartObject("trainer");
        foreach (var t in TrainerCliOptions.All) t.WriteJson(options, writer);
        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    private static void Print(TextWriter output, IReadOnlyDictionary<string, double> metrics)
    {
        foreach (var (name, value) in metrics.OrderBy(m => m.Key, StringComparer.Ordinal))
            output.WriteLine($"{name} {MetricFormat.Epoch(value)}");
    }

    /// <summary>"best" / "last" / a path, resolved by <see cref="CheckpointPath"/>; a bad one is a usage error (exit code 2).</summary>
    private static string ResolveCheckpoint(string path, TrainerOptions options, IReadOnlyList<ICallback> callbacks)
    {
        if (Directory.Exists(path)) throw new CliUsageException($"--ckpt-path: '{path}' is a folder; expected a checkpoint file (.ckpt), best or last.");
        if (path is not ("best" or "last") && !File.Exists(path))
            throw new CliUsageException($"--ckpt-path: '{path}' does not exist; expected a checkpoint file (.ckpt), best or last.");
        try { return CheckpointPath.Resolve(path, callbacks.OfType<ModelCheckpoint>().ToList(), options.DefaultRootDir); }
        catch (LightningException e) when (e is not CheckpointException) { throw new CliUsageException("--ckpt-path: " + e.Message, e); }
    }
}

/// <summary>Lightning's <c>SaveConfigCallback</c>: writes the effective config to <c>config.json</c> in the run's folder when a fit starts.</summary>
internal sealed class SaveConfigCallback(Action<Utf8JsonWriter> write) : Callback
{
    public string? Path { get; private set; }

    public override void OnFitStart(Trainer trainer, ILightningModule module)
    {
        Path = System.IO.Path.Combine(trainer.LogDir, "config.json");
        using var stream = File.Create(Path);
        using var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
        write(writer);
    }
}
