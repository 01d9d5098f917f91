using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.RegularExpressions;
using Lightning.Checkpoints;

namespace Lightning.Callbacks;

/// <summary>
/// Saves checkpoints during a fit and keeps the best <see cref="SaveTopK"/> of them by a monitored metric, as
/// Lightning's <c>ModelCheckpoint</c>: <c>new ModelCheckpoint { DirPath = "./", Filename = "modelo-{val_acc:.5f}",
/// Monitor = "val_acc", Mode = "max" }</c> writes <c>modelo-val_acc=0.99120.ckpt</c>. It saves after each
/// validation run (after each training epoch when there is no validation).
/// </summary>
public sealed partial class ModelCheckpoint : Callback
{
    private readonly List<(string Path, double Score)> _best = new();

    /// <summary>The folder for checkpoints; default <c>lightning_logs/checkpoints</c>.</summary>
    public string DirPath { get; init; } = Path.Combine("lightning_logs", "checkpoints");

    /// <summary>
    /// The file name without <c>.ckpt</c>: <c>{epoch}</c>, <c>{step}</c> and <c>{metric}</c> or <c>{metric:.5f}</c>
    /// become <c>name=value</c> (Lightning's <c>auto_insert_metric_name</c>). Default <c>{epoch}-{step}</c>.
    /// </summary>
    public string Filename { get; init; } = "{epoch}-{step}";

    /// <summary>The metric that ranks checkpoints; null keeps the latest <see cref="SaveTopK"/> instead.</summary>
    public string? Monitor { get; init; }

    /// <summary>"min" (lower is better, e.g. a loss) or "max" (e.g. an accuracy).</summary>
    public string Mode { get; init; } = "min";

    /// <summary>How many checkpoints to keep: the best k; 0 none (only <see cref="SaveLast"/>); -1 all.</summary>
    public int SaveTopK { get; init; } = 1;

    /// <summary>Also write <c>last.ckpt</c> each time.</summary>
    public bool SaveLast { get; init; }

    /// <summary>Save every n epochs.</summary>
    public int EveryNEpochs { get; init; } = 1;

    /// <summary>The best checkpoint so far, or null.</summary>
    public string? BestModelPath => Ranked().Select(b => b.Path).FirstOrDefault();

    /// <summary>The score of <see cref="BestModelPath"/>, or null.</summary>
    public double? BestModelScore => Ranked().Select(b => (double?)b.Score).FirstOrDefault();

    /// <summary>The path of the last checkpoint written (top-k or <c>last.ckpt</c>), or null.</summary>
    public string? LastModelPath { get; private set; }

    /// <summary>The checkpoints kept, best first, with their scores.</summary>
    public IReadOnlyList<(string Path, double Score)> BestKModels => Ranked().ToList();

    private bool Maximize => Mode == "max";

    private IEnumerable<(string Path, double Score)> Ranked() =>
        Monitor is null ? Enumerable.Reverse(_best) : Maximize ? _best.OrderByDescending(b => b.Score) : _best.OrderBy(b => b.Score);

    public override void OnFitStart(Trainer trainer, ILightningModule module)
    {
        if (Mode is not ("min" or "max")) throw new LightningException($"ModelCheckpoint.Mode is '{Mode}': expected \"min\" or \"max\".");
        if (SaveTopK < -1) throw new LightningException($"ModelCheckpoint.SaveTopK is {SaveTopK}: expected -1 (all), 0 or more.");
        if (EveryNEpochs < 1) throw new LightningException($"ModelCheckpoint.EveryNEpochs is {EveryNEpochs}: expected 1 or more.");
        if (string.IsNullOrWhiteSpace(Filename)) throw new LightningException("ModelCheckpoint.Filename is empty.");
        if (SaveTopK > 1 && Monitor is null)
            throw new LightningException($"ModelCheckpoint.SaveTopK is {SaveTopK} but no Monitor is set: which checkpoints are best needs a monitored metric.");
    }

    public override void OnValidationEnd(Trainer trainer, ILightningModule module) => Save(trainer, module);

    public override void OnTrainEpochEnd(Trainer trainer, ILightningModule module)
    {
        // With validation, the checkpoint was written at the end of the validation run.
        if (!trainer.LastEpochValidated) Save(trainer, module);
    }

    private void Save(Trainer trainer, ILightningModule module)
    {
        if (trainer.Options.FastDevRun > 0 || (trainer.CurrentEpoch + 1) % EveryNEpochs != 0) return;
        double score = Monitor is null ? double.NaN : trainer.MonitoredMetric(nameof(ModelCheckpoint), Monitor);
        Directory.CreateDirectory(DirPath);

        if (SaveTopK != 0 && (Monitor is null || !double.IsNaN(score)) && IsTopK(score))
        {
            // At capacity, the worst kept checkpoint makes room (and its file name may be reused).
            (string Path, double Score)? replaced = SaveTopK > 0 && _best.Count >= SaveTopK ? Ranked().Last() : null;
            var path = FreePath(FormatName(Filename, trainer.CurrentEpoch, trainer.GlobalStep, trainer.CallbackMetrics), replaced?.Path);
            Checkpoint.Save(path, module, trainer.CurrentEpoch, trainer.GlobalStep, trainer.Optimizer);
            if (replaced is { } r)
            {
                _best.Remove(r);
                if (r.Path != path) File.Delete(r.Path);
            }
            _best.Add((path, score));
            LastModelPath = path;
        }
        if (SaveLast)
        {
            var last = Path.Combine(DirPath, "last.ckpt");
            Checkpoint.Save(last, module, trainer.CurrentEpoch, trainer.GlobalStep, trainer.Optimizer);
            LastModelPath = last;
        }
    }

    private bool IsTopK(double score)
    {
        if (SaveTopK < 0 || _best.Count < SaveTopK || Monitor is null) return true;
        var worst = Ranked().Last().Score;
        return Maximize ? score > worst : score < worst;
    }

    /// <summary>
    /// A path in <see cref="DirPath"/> for <paramref name="name"/> that holds no file (other than <paramref name="replacing"/>,
    /// which is about to go): a clash gets <c>-v1</c>, <c>-v2</c>..., so no existing file is ever overwritten.
    /// </summary>
    private string FreePath(string name, string? replacing)
    {
        var path = Path.Combine(DirPath, name + ".ckpt");
        for (int v = 1; File.Exists(path) && path != replacing; v++)
            path = Path.Combine(DirPath, $"{name}-v{v}.ckpt");
        return path;
    }

    /// <summary>
    /// Expands a Lightning filename template: <c>{epoch}</c> -> <c>epoch=3</c>, <c>{val_acc:.5f}</c> ->
    /// <c>val_acc=0.99120</c>. Values never add path separators.
    /// </summary>
    public static string FormatName(string template, int epoch, long step, IReadOnlyDictionary<string, double> metrics)
    {
        var result = Placeholder().Replace(template, m =>
        {
            var name = m.Groups["name"].Value;
            var spec = m.Groups["spec"].Success ? m.Groups["spec"].Value : null;
            string value = name switch
            {
                "epoch" => epoch.ToString(CultureInfo.InvariantCulture),
                "step" => step.ToString(CultureInfo.InvariantCulture),
                _ => metrics.TryGetValue(name, out var v) ? FormatValue(v, spec, name) : throw new LightningException(
                    $"ModelCheckpoint.Filename '{template}' uses '{{{name}}}', which is not a logged metric (logged: {string.Join(", ", metrics.Keys)}).")
            };
            return name + "=" + value;
        });
        var clean = new StringBuilder(result.Length);
        foreach (char c in result) clean.Append(c is '/' or '\\' || Array.IndexOf(Path.GetInvalidFileNameChars(), c) >= 0 ? '_' : c);
        return clean.ToString();
    }

    private static string FormatValue(double value, string? spec, string name)
    {
        var ci = CultureInfo.InvariantCulture;
        if (spec is null) return value.ToString("R", ci);
        var m = Regex.Match(spec, @"^\.(\d{1,2})[fF]$");
        if (m.Success) return value.ToString("F" + m.Groups[1].Value, ci);
        if (spec is "d") return ((long)value).ToString(ci);
        throw new LightningException($"ModelCheckpoint.Filename: the format ':{spec}' of '{name}' is not supported; use ':.Nf' (e.g. ':.5f') or ':d'.");
    }

    [GeneratedRegex(@"\{(?<name>[A-Za-z_][A-Za-z0-9_./-]*)(:(?<spec>[^}]*))?\}")]
    private static partial Regex Placeholder();
}
