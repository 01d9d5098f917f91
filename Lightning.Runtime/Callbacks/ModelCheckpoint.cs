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
    private long _lastSavedStep = -1;

    /// <summary>The folder for checkpoints; default <c>&lt;DefaultRootDir&gt;/lightning_logs/version_N/checkpoints</c> (the run's log folder).</summary>
    public string? DirPath { get; init; }

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

    /// <summary>Save every n epochs (0: not at epoch ends). Default 1, or 0 when <see cref="EveryNTrainSteps"/> is set.</summary>
    public int? EveryNEpochs { get; init; }

    /// <summary>Save every n optimizer steps, at the end of the batch (0 or null: not by steps).</summary>
    public int? EveryNTrainSteps { get; init; }

    /// <summary>The folder checkpoints go to in the current fit (<see cref="DirPath"/> or the run's log folder).</summary>
    public string? ResolvedDirPath { get; private set; }

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

    private int EpochInterval => EveryNEpochs ?? (EveryNTrainSteps is > 0 ? 0 : 1);

    public override void OnFitStart(Trainer trainer, ILightningModule module)
    {
        if (Mode is not ("min" or "max")) throw new LightningException($"ModelCheckpoint.Mode is '{Mode}': expected \"min\" or \"max\".");
        if (SaveTopK < -1) throw new LightningException($"ModelCheckpoint.SaveTopK is {SaveTopK}: expected -1 (all), 0 or more.");
        if (EveryNEpochs < 0) throw new LightningException($"ModelCheckpoint.EveryNEpochs is {EveryNEpochs}: expected 0 (off) or more.");
        if (EveryNTrainSteps < 0) throw new LightningException($"ModelCheckpoint.EveryNTrainSteps is {EveryNTrainSteps}: expected 0 (off) or more.");
        if (string.IsNullOrWhiteSpace(Filename)) throw new LightningException("ModelCheckpoint.Filename is empty.");
        if (SaveTopK > 1 && Monitor is null)
            throw new LightningException($"ModelCheckpoint.SaveTopK is {SaveTopK} but no Monitor is set: which checkpoints are best needs a monitored metric.");
        ResolvedDirPath = DirPath ?? Path.Combine(trainer.LogDir, "checkpoints");
    }

    public override void OnTrainBatchEnd(Trainer trainer, ILightningModule module, TorchSharp.torch.Tensor? loss, long batchIdx)
    {
        if (EveryNTrainSteps is int n && n > 0 && trainer.GlobalStep > 0 && trainer.GlobalStep % n == 0 && trainer.GlobalStep != _lastSavedStep)
            Save(trainer, module);
    }

    public override void OnValidationEnd(Trainer trainer, ILightningModule module)
    {
        if (EpochDue(trainer)) Save(trainer, module);
    }

    public override void OnTrainEpochEnd(Trainer trainer, ILightningModule module)
    {
        // With validation, the checkpoint was written at the end of the validation run.
        if (!trainer.LastEpochValidated && EpochDue(trainer)) Save(trainer, module);
    }

    private bool EpochDue(Trainer trainer) =>
        EpochInterval > 0 && (trainer.CurrentEpoch + 1) % EpochInterval == 0 && trainer.GlobalStep != _lastSavedStep;

    private void Save(Trainer trainer, ILightningModule module)
    {
        if (trainer.Options.FastDevRun > 0 || !trainer.IsFitting) return;
        double score = double.NaN;
        if (Monitor is not null && !trainer.CallbackMetrics.TryGetValue(Monitor, out score))
        {
            // Before the first validation the monitored metric may not exist yet (step checkpoints): skip, as Lightning.
            if (!trainer.HasValidated) return;
            score = trainer.MonitoredMetric(nameof(ModelCheckpoint), Monitor);
        }
        var dir = ResolvedDirPath ?? throw new LightningException("ModelCheckpoint: the fit has not started (OnFitStart was not called).");
        if (trainer.IsGlobalZero)   // data-parallel: only rank 0 touches files
        {
            Directory.CreateDirectory(dir);
            RemoveInterruptedWrites(dir);
        }
        _lastSavedStep = trainer.GlobalStep;

        if (SaveTopK != 0 && (Monitor is null || !double.IsNaN(score)) && IsTopK(score))
        {
            // At capacity, the worst kept checkpoint makes room (and its file name may be reused).
            (string Path, double Score)? replaced = SaveTopK > 0 && _best.Count >= SaveTopK ? Ranked().Last() : null;
            var path = FreePath(dir, FormatName(Filename, trainer.CurrentEpoch, trainer.GlobalStep, trainer.CallbackMetrics), replaced?.Path);
            // The state saved in the file already lists the file itself, as Lightning's.
            if (replaced is { } r) _best.Remove(r);
            _best.Add((path, score));
            LastModelPath = path;
            trainer.SaveCheckpoint(path);
            if (replaced is { } gone && trainer.IsGlobalZero && ShouldRemove(trainer, gone.Path, path)) File.Delete(gone.Path);
        }
        if (SaveLast)
        {
            var last = Path.Combine(dir, "last.ckpt");
            LastModelPath = last;
            trainer.SaveCheckpoint(last);
        }
    }

    /// <summary>
    /// Whether a checkpoint that left the top k is deleted, by Lightning's rule (<c>ModelCheckpoint._should_remove_checkpoint</c>):
    /// not when the new checkpoint took its path, not when it is the checkpoint the fit resumed from, and only when it is
    /// in this callback's folder. A fit never deletes a file it did not write there.
    /// </summary>
    private bool ShouldRemove(Trainer trainer, string previous, string current)
    {
        if (previous == current) return false;
        var full = Path.GetFullPath(previous);
        if (trainer.CkptPath is string resumed && Path.GetFullPath(resumed) == full) return false;
        var dir = Path.GetFullPath(ResolvedDirPath!);
        return Path.GetDirectoryName(full) is string parent && (parent + Path.DirectorySeparatorChar).StartsWith(dir.TrimEnd(Path.DirectorySeparatorChar) + Path.DirectorySeparatorChar, StringComparison.Ordinal);
    }

    /// <summary>
    /// Deletes what interrupted writes left in <paramref name="dir"/>: <c>NAME.ckpt.tmp-GUID</c> files (a process killed
    /// while it was saving). They are never a checkpoint (the rename never happened), and never read as one.
    /// </summary>
    private static void RemoveInterruptedWrites(string dir)
    {
        foreach (var file in Directory.EnumerateFiles(dir, "*.ckpt.tmp-*"))
        {
            if (!SafetensorsFile.IsTemporaryName(Path.GetFileName(file))) continue;
            try { File.Delete(file); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { /* another writer's, or read-only: left alone */ }
        }
    }

    public override string? StateKey =>
        $"ModelCheckpoint{{monitor={Monitor},mode={Mode},every_n_train_steps={EveryNTrainSteps ?? 0},every_n_epochs={EpochInterval}}}";

    public override void SaveState(System.Text.Json.Utf8JsonWriter writer)
    {
        writer.WriteStartObject();
        writer.WriteString("dirpath", ResolvedDirPath);
        writer.WriteString("last_model_path", LastModelPath);
        writer.WriteStartArray("best_k_models");
        foreach (var (path, score) in _best)
        {
            writer.WriteStartObject();
            writer.WriteString("path", path);
            if (double.IsFinite(score)) writer.WriteNumber("score", score); else writer.WriteNull("score");
            writer.WriteEndObject();
        }
        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    /// <summary>
    /// Restores the kept checkpoints, as Lightning's <c>ModelCheckpoint.load_state_dict</c>: only when the saved folder is
    /// this callback's folder (a resume into a new run folder starts a new top k and so never deletes the old run's files).
    /// </summary>
    public override void LoadState(System.Text.Json.JsonElement state, string checkpointPath)
    {
        string key = StateKey!;
        var best = CheckpointJson.Array(CheckpointJson.Required(state, "best_k_models", checkpointPath, key), checkpointPath, key + ".best_k_models");
        var saved = new List<(string Path, double Score)>();
        foreach (var entry in best.EnumerateArray())
        {
            var path = CheckpointJson.String(CheckpointJson.Required(entry, "path", checkpointPath, key + ".best_k_models[]"), checkpointPath, key + ".best_k_models[].path")!;
            double score = entry.TryGetProperty("score", out var s) ? CheckpointJson.Number(s, checkpointPath, key + ".best_k_models[].score", allowNonFinite: true) : double.NaN;
            saved.Add((path, score));
        }
        string? lastPath = state.TryGetProperty("last_model_path", out var last) ? CheckpointJson.String(last, checkpointPath, key + ".last_model_path", allowNull: true) : null;
        string? dirPath = state.TryGetProperty("dirpath", out var d) ? CheckpointJson.String(d, checkpointPath, key + ".dirpath", allowNull: true) : null;

        _best.Clear();
        LastModelPath = null;
        if (dirPath is null || ResolvedDirPath is null || Path.GetFullPath(dirPath) != Path.GetFullPath(ResolvedDirPath)) return;
        // A kept checkpoint deleted since is forgotten rather than reported as best.
        foreach (var b in saved)
            if (File.Exists(b.Path)) _best.Add(b);
        if (lastPath is not null && File.Exists(lastPath)) LastModelPath = lastPath;
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
    private static string FreePath(string dir, string name, string? replacing)
    {
        var path = Path.Combine(dir, name + ".ckpt");
        for (int v = 1; File.Exists(path) && path != replacing; v++)
            path = Path.Combine(dir, $"{name}-v{v}.ckpt");
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
