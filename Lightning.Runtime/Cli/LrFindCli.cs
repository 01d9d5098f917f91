using System;
using System.CommandLine;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.Json;
using Lightning.Tuning;
using TorchSharp;

namespace Lightning.Cli;

/// <summary>
/// <c>fit --lr-find</c>: before the fit, the learning-rate finder (<see cref="Tuner.LrFind{TBatch}(ILightningModule{TBatch}, LightningDataModule{TBatch}, double, double, int, LrFindMode, double?)"/>
/// with Lightning's defaults) runs on the module; its suggestion is printed and becomes the <c>lr</c> or <c>learning_rate</c>
/// hyperparameter (Lightning's <c>update_attr=True</c>, which looks for those two names); the module is rebuilt from the new
/// hyperparameters with the same initial weights, and the fit draws <c>lr_find.png</c> into its run folder. The fit's
/// <c>config.json</c> holds the found rate, so <c>--config</c> repeats the run without searching again.
/// </summary>
internal static class LrFindCli
{
    /// <summary>The picture's file name in the run's folder.</summary>
    public const string ImageFileName = "lr_find.png";

    /// <summary>The hyperparameter names the found rate goes to, in Lightning's order (<c>_determine_lr_attr_name</c>).</summary>
    private static readonly string[] RateNames = { "lr", "learning_rate" };

    /// <summary>A new <c>--lr-find</c> flag for the <c>fit</c> command.</summary>
    public static Option<bool> CreateOption() => new("--lr-find")
    {
        Description = "Before fitting, find a learning rate (as Lightning's Tuner.lr_find), print it, set the lr or learning_rate " +
            "hyperparameter to it and draw lr_find.png in the run's folder",
    };

    /// <summary>Runs the finder and returns the module, hyperparameters and trainer options the fit should use.</summary>
    public static (TModule Model, THParams Hparams, TrainerOptions Options) Apply<TModule, THParams, TBatch>(
        TModule model, THParams hparams, TrainerOptions options, string? resume, Func<THParams, LightningDataModule<TBatch>> data, TextWriter output)
        where TModule : ICliModule<TModule, THParams, TBatch>
        where THParams : IHyperParameters
    {
        if (resume is not null)
            throw new CliUsageException("--lr-find cannot be used with --ckpt-path: a resumed fit restores the checkpoint's optimizer and its learning rates, so a found rate would not apply.");
        // Checked before the sweep, as Lightning does (test_lr_finder_fails_fast_on_bad_config).
        var name = RateNames.FirstOrDefault(n => model.HyperParameters.Values.Any(h => h.Name == n && h.Value is double or float)) ?? throw new CliUsageException(
            $"--lr-find: {model.ModuleTypeName} has no hyperparameter named {string.Join(" or ", RateNames)} (a number) to set the found learning rate to.");

        // Lightning shows a progress bar here; a sweep can take a while, so say what runs.
        output.WriteLine("Learning-rate finder: up to 100 optimizer steps, the learning rate rising from 1e-08 to 1 ...");
        var result = new Trainer(options).Tuner.LrFind(model, data(hparams));
        var current = model.HyperParameters.Values.First(h => h.Name == name).Value;
        if (result.Suggest() is not { } suggestion)
        {
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"Learning-rate finder: no suggestion ({result.LearningRates.Count} steps are too few); {name} stays {current}."));
            return (model, hparams, options);
        }
        string rate = suggestion.LearningRate.ToString("R", CultureInfo.InvariantCulture);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Learning-rate finder: suggested learning rate {rate} (step {suggestion.Index} of {result.LearningRates.Count}, where the smoothed loss falls fastest); {name} = {rate} (was {current})."));

        var changed = TModule.HParamsFromJson(WithNumber(HyperParameterJson.ToJson(hparams), name, suggestion.LearningRate), "--lr-find");
        var rebuilt = Rebuild(model, TModule.Create, changed);
        var plot = new LrFindPlotCallback(result, output);
        return (rebuilt, changed, options with { Callbacks = options.Callbacks.Append(plot).ToList() });
    }

    /// <summary>The JSON object <paramref name="json"/> with the number <paramref name="name"/> set to <paramref name="value"/>.</summary>
    private static string WithNumber(string json, string name, double value)
    {
        using var document = JsonDocument.Parse(json);
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            foreach (var p in document.RootElement.EnumerateObject())
            {
                if (p.Name == name) writer.WriteNumber(name, value);
                else p.WriteTo(writer);
            }
            writer.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>
    /// A module made from <paramref name="hparams"/> with <paramref name="model"/>'s weights (the finder put them back as they
    /// were), so the fit starts where it would have without <c>--lr-find</c>; building it draws no random numbers the fit would see.
    /// </summary>
    private static TModule Rebuild<TModule, THParams>(TModule model, Func<THParams, TModule> create, THParams hparams)
        where TModule : ILightningModule
    {
        TModule rebuilt;
        using (var random = torch.get_rng_state())
        {
            rebuilt = create(hparams);
            torch.set_rng_state(random);
        }
        rebuilt.RegisterComponentsOnce();
        model.RegisterComponentsOnce();
        using (torch.no_grad())
        {
            var target = rebuilt.Module.state_dict();
            foreach (var (key, value) in model.Module.state_dict())
            {
                if (!target.TryGetValue(key, out var into) || !into.shape.SequenceEqual(value.shape))
                    throw new LightningException($"--lr-find: the module rebuilt with the found learning rate has no weight '{key}' of the same shape; its layers must not depend on the rate.");
                into.copy_(value);
            }
        }
        return rebuilt;
    }
}

/// <summary>Draws the finder's plot into the fit's run folder when the fit starts, and names it.</summary>
internal sealed class LrFindPlotCallback(LrFinderResult result, TextWriter output) : Callback
{
    public string? Path { get; private set; }

    public override void OnFitStart(Trainer trainer, ILightningModule module)
    {
        if (!trainer.IsGlobalZero) return;
        Path = result.Plot(System.IO.Path.Combine(trainer.LogDir, LrFindCli.ImageFileName));
        output.WriteLine($"Learning-rate finder plot {Path}");
    }
}
