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

/// <summary>
/// Lightning's <c>LightningCLI</c>: subcommands <c>fit</c>, <c>validate</c>, <c>test</c>, <c>predict</c>, each with every
/// hyperparameter of the module and every trainer option (<c>--lr 3e-4 --max-epochs 5</c>), <c>--config run.json</c>
/// (command-line values override it) and <c>--ckpt-path best|last|PATH</c>. <c>fit</c> writes the effective config to
/// <c>config.json</c> in the run's folder; passing it back with <c>--config</c> repeats the run. The generated
/// <c>Foo.RunCli(args, data)</c> calls <see cref="Run"/> with the module's hyperparameter options.
/// </summary>
public static class LightningCli
{
    /// <summary>Parses <paramref name="args"/> and runs the subcommand; returns the process exit code (2 for bad arguments).</summary>
    public static int Run<TModule, THParams, TBatch>(
        string[] args,
        string moduleName,
        THParams defaults,
        IReadOnlyList<CliOption<THParams>> hyperparameters,
        Func<THParams, TModule> create,
        Func<string, Func<THParams, THParams>?, TModule> load,
        Func<THParams, string> hparamsJson,
        Func<string, string, THParams> hparamsFromJson,
        Func<THParams, LightningDataModule<TBatch>> data,
        CliSettings<TModule, THParams>? settings = null)
        where TModule : ILightningModule<TBatch>
    {
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
        void Command(string name, string description, Func<ParseResult, int> action)
        {
            var command = new Command(name, description);
            command.SetAction(result =>
            {
                try { exit = action(result); }
                catch (LightningException e)
                {
                    exit = CliUsage.Report(e, settings.Output ?? Console.Error);
                }
                return exit;
            });
            root.Add(command);
        }

        (THParams Hparams, TrainerOptions Trainer) Settings(ParseResult result)
        {
            var hparams = defaults;
            var trainer = trainerDefaults;
            if (result.GetValue(config) is string file)
            {
                if (!File.Exists(file)) throw new LightningException($"--config: the file '{file}' does not exist.");
                using var document = ParseConfig(file);
                foreach (var property in document.RootElement.EnumerateObject())
                {
                    switch (property.Name)
                    {
                        case "hparams": hparams = hparamsFromJson(property.Value.GetRawText(), file + ": hparams"); break;
                        case "trainer":
                            foreach (var p in property.Value.EnumerateObject())
                            {
                                var option = TrainerCliOptions.All.FirstOrDefault(o => o.JsonName == p.Name) ?? throw new LightningException(
                                    $"{file}: 'trainer.{p.Name}' is not a trainer option (options: {string.Join(", ", TrainerCliOptions.All.Select(o => o.JsonName))}).");
                                trainer = option.ApplyJson(trainer, p.Value, file);
                            }
                            break;
                        default: throw new LightningException($"{file}: unknown section '{property.Name}'; expected \"hparams\" and \"trainer\".");
                    }
                }
            }
            foreach (var h in hyperparameters) hparams = h.ApplyCommandLine(hparams, result);
            CliUsage.CheckRanges(hparams, hyperparameters);
            foreach (var t in TrainerCliOptions.All) trainer = t.ApplyCommandLine(trainer, result);
            if (settings.Output is not null) trainer = trainer with { Output = settings.Output };
            return (hparams, trainer);
        }

        Command("fit", $"Train {moduleName} (validating as configured).", result =>
        {
            var (hparams, options) = Settings(result);
            var callbacks = settings.Callbacks?.Invoke(hparams) ?? Array.Empty<ICallback>();
            var saveConfig = new SaveConfigCallback(w => WriteConfig(w, hparamsJson(hparams), options));
            var trainer = new Trainer(options with { Callbacks = callbacks.Concat(options.Callbacks).Append(saveConfig).ToList() });
            var model = create(hparams);
            var ckptPath = result.GetValue(ckpt);
            trainer.Fit(model, data(hparams), ckptPath is null ? null : ResolveCheckpoint(ckptPath, options, callbacks, fit: true));
            output.WriteLine($"Config {saveConfig.Path}");
            return settings.AfterFit?.Invoke(trainer, model) ?? 0;
        });

        TModule Loaded(ParseResult result, THParams hparams, TrainerOptions options)
        {
            var path = result.GetValue(ckpt);
            if (path is null) return create(hparams);
            var resolved = ResolveCheckpoint(path, options, settings.Callbacks?.Invoke(hparams) ?? Array.Empty<ICallback>(), fit: false)!;
            output.WriteLine($"Weights from {resolved}");
            return load(resolved, null);
        }

        Command("validate", $"Run {moduleName}'s validation step.", result =>
        {
            var (hparams, options) = Settings(result);
            var model = Loaded(result, hparams, options);
            if (model is not IValidationModule<TBatch> validation) throw new LightningException($"{moduleName} has no [ValidationStep] method.");
            Print(output, new Trainer(options).Validate(validation, data(hparams)));
            return 0;
        });
        Command("test", $"Run {moduleName}'s test step.", result =>
        {
            var (hparams, options) = Settings(result);
            var model = Loaded(result, hparams, options);
            if (model is not ITestModule<TBatch> test) throw new LightningException($"{moduleName} has no [TestStep] method.");
            Print(output, new Trainer(options).Test(test, data(hparams)));
            return 0;
        });
        Command("predict", $"Run {moduleName}'s predict step; tensor outputs go to predictions.csv in the run's folder.", result =>
        {
            var (hparams, options) = Settings(result);
            var model = Loaded(result, hparams, options);
            var predictor = model.GetType().GetInterfaces().FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IPredictModule<,>))
                ?? throw new LightningException($"{moduleName} has no [PredictStep] method that returns a value.");
            var trainer = new Trainer(options);
            var outputs = PredictAny(trainer, model, data(hparams));
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
        int code = parsed.Invoke(new InvocationConfiguration
        {
            EnableDefaultExceptionHandler = false,
            Output = output,
            Error = settings.Output ?? Console.Error,
        });
        return parsed.Errors.Count > 0 ? 2 : code != 0 ? code : exit;
    }

    /// <summary>Runs Predict for a module whose output type is only known at run time (one reflection call per command, not per batch).</summary>
    private static List<object?> PredictAny<TBatch>(Trainer trainer, ILightningModule<TBatch> model, LightningDataModule<TBatch> data)
    {
        var predictor = model.GetType().GetInterfaces().First(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IPredictModule<,>));
        var output = predictor.GetGenericArguments()[1];
        var method = typeof(Trainer).GetMethods().First(m => m.Name == nameof(Trainer.Predict) && m.GetParameters()[1].ParameterType.IsGenericType
                && m.GetParameters()[1].ParameterType.GetGenericTypeDefinition() == typeof(LightningDataModule<>))
            .MakeGenericMethod(typeof(TBatch), output);
        var list = (System.Collections.IEnumerable)method.Invoke(trainer, new object[] { model, data })!;
        return list.Cast<object?>().ToList();
    }

    private static JsonDocument ParseConfig(string file)
    {
        try { return JsonDocument.Parse(File.ReadAllText(file)); }
        catch (JsonException e) { throw new LightningException($"--config: '{file}' is not valid JSON ({e.Message}).", e); }
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

    /// <summary>
    /// "best" / "last" / a path. In a new process, "last" is the newest checkpoint under the runs' folders and "best" the
    /// best one recorded in the newest checkpoint's ModelCheckpoint state.
    /// </summary>
    private static string? ResolveCheckpoint(string path, TrainerOptions options, IReadOnlyList<ICallback> callbacks, bool fit)
    {
        if (path is not ("best" or "last")) return path;
        var dirs = callbacks.OfType<ModelCheckpoint>().Select(c => c.DirPath).Where(d => d is not null).Cast<string>().ToList();
        var logs = Path.Combine(options.DefaultRootDir, "lightning_logs");
        var files = dirs.Where(Directory.Exists).SelectMany(d => Directory.GetFiles(d, "*.ckpt"))
            .Concat(Directory.Exists(logs) ? Directory.GetFiles(logs, "*.ckpt", SearchOption.AllDirectories) : Array.Empty<string>())
            .Distinct().OrderByDescending(File.GetLastWriteTimeUtc).ToList();
        if (files.Count == 0)
            throw new LightningException($"--ckpt-path {path}: no checkpoint found under {logs}{(dirs.Count > 0 ? " or " + string.Join(", ", dirs) : "")}.");
        if (path == "last") return files[0];
        return BestRecordedIn(files[0]) ?? throw new LightningException(
            $"--ckpt-path best: the newest checkpoint {files[0]} records no best checkpoint (its ModelCheckpoint has no monitor); use last or a path.");
    }

    private static string? BestRecordedIn(string file)
    {
        var metadata = SafetensorsFile.Read(file).Metadata;
        if (!metadata.TryGetValue("callbacks", out var json)) return null;
        using var document = JsonDocument.Parse(json);
        foreach (var property in document.RootElement.EnumerateObject())
        {
            if (!property.Name.StartsWith("ModelCheckpoint{", StringComparison.Ordinal) || property.Name.Contains("monitor=,", StringComparison.Ordinal)) continue;
            bool max = property.Name.Contains("mode=max", StringComparison.Ordinal);
            var best = property.Value.GetProperty("best_k_models").EnumerateArray()
                .Where(e => e.TryGetProperty("score", out var s) && s.ValueKind == JsonValueKind.Number && e.GetProperty("path").GetString() is string p && File.Exists(p))
                .Select(e => (Path: e.GetProperty("path").GetString()!, Score: e.GetProperty("score").GetDouble()))
                .ToList();
            if (best.Count > 0) return (max ? best.OrderByDescending(b => b.Score) : best.OrderBy(b => b.Score)).First().Path;
        }
        return null;
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
