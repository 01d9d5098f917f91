using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Lightning.Checkpoints;

namespace Lightning.Callbacks;

/// <summary>
/// Saves checkpoints during a fit and keeps the best <see cref="SaveTopK"/> of them by a monitored metric, as
/// Lightning's <c>ModelCheckpoint</c> (src/lightning/pytorch/callbacks/model_checkpoint.py): <c>new ModelCheckpoint {
/// DirPath = "./", Filename = "modelo-{val_acc:.5f}", Monitor = "val_acc", Mode = MonitorMode.Max }</c> writes
/// <c>modelo-val_acc=0.99120.ckpt</c>. When it saves follows Lightning: at the end of each training epoch (after that
/// epoch's validation) when validation runs once per epoch or not at all, else at the end of each validation run
/// (<see cref="SaveOnTrainEpochEnd"/>); every <see cref="EveryNEpochs"/> epochs or <see cref="EveryNTrainSteps"/> steps.
/// </summary>
public sealed partial class ModelCheckpoint : Callback
{
    private readonly List<(string Path, double Score)> _best = new();
    private long _lastGlobalStepSaved = -1;
    private string? _lastCheckpointSaved;
    private bool _deferUntilValidation;

    /// <summary>The folder for checkpoints; default <c>&lt;DefaultRootDir&gt;/lightning_logs/version_N/checkpoints</c> (the run's log folder).</summary>
    public string? DirPath { get; init; }

    /// <summary>
    /// The file name without <c>.ckpt</c>, Lightning's template: <c>{epoch}</c>, <c>{step}</c> and <c>{metric}</c> become
    /// <c>name=value</c> (unless <see cref="AutoInsertMetricName"/> is off), with Python's format specs
    /// (<c>{epoch:03d}</c>, <c>{val_loss:.2f}</c>, <c>{val_loss:.3e}</c>); a <c>/</c> makes subfolders of
    /// <see cref="DirPath"/>; a name that is not logged is 0. Default <c>{epoch}-{step}</c>.
    /// </summary>
    public string Filename { get; init; } = "{epoch}-{step}";

    /// <summary>Write <c>name=</c> before each placeholder's value (Lightning's <c>auto_insert_metric_name</c>, default true).</summary>
    public bool AutoInsertMetricName { get; init; } = true;

    /// <summary>
    /// The metric that ranks checkpoints (any logged metric, or <c>"epoch"</c> / <c>"step"</c>); null keeps the latest
    /// <see cref="SaveTopK"/> instead.
    /// </summary>
    public string? Monitor { get; init; }

    /// <summary><see cref="MonitorMode.Min"/> (lower is better, e.g. a loss; the default) or <see cref="MonitorMode.Max"/> (e.g. an accuracy).</summary>
    public MonitorMode Mode { get; init; } = MonitorMode.Min;

    /// <summary>How many checkpoints to keep: the best k; 0 none (only <see cref="SaveLast"/>); -1 all.</summary>
    public int SaveTopK { get; init; } = 1;

    /// <summary>Also write <c>last.ckpt</c> whenever a checkpoint is saved, and at the end of training.</summary>
    public bool SaveLast { get; init; }

    /// <summary>Save every n epochs (0: not at epoch ends). Default 1, or 0 when <see cref="EveryNTrainSteps"/> is set; the two exclude each other.</summary>
    public int? EveryNEpochs { get; init; }

    /// <summary>Save every n optimizer steps, at the end of the batch (0 or null: not by steps).</summary>
    public int? EveryNTrainSteps { get; init; }

    /// <summary>
    /// Save at the end of the training epoch (true) or at the end of each validation run (false). Default (null), as
    /// Lightning's <c>_should_save_on_train_epoch_end</c>: at the epoch's end when the fit has no validation, or validates
    /// once at the end of every epoch; at the end of each validation run when it validates within epochs or not every epoch.
    /// </summary>
    public bool? SaveOnTrainEpochEnd { get; init; }

    /// <summary>The folder checkpoints go to in the current fit (<see cref="DirPath"/> or the run's log folder).</summary>
    public string? ResolvedDirPath { get; private set; }

    /// <summary>The best checkpoint so far, or null.</summary>
    public string? BestModelPath => Ranked().Select(b => b.Path).FirstOrDefault();

    /// <summary>The score of <see cref="BestModelPath"/>, or null.</summary>
    public double? BestModelScore => Ranked().Select(b => (double?)b.Score).FirstOrDefault();

    /// <summary>The path of the last checkpoint (<c>last.ckpt</c>, with <see cref="SaveLast"/>), or null, as Lightning's <c>last_model_path</c>.</summary>
    public string? LastModelPath { get; private set; }

    /// <summary>The checkpoint this callback wrote most recently in the current (or last) fit (top-k or last), or null.</summary>
    public string? LatestSavedPath => _lastCheckpointSaved;

    /// <summary>The checkpoints kept, best first, with their scores.</summary>
    public IReadOnlyList<(string Path, double Score)> BestKModels => Ranked().ToList();

    private bool Maximize => Mode == MonitorMode.Max;

    private IEnumerable<(string Path, double Score)> Ranked() =>
        Monitor is null ? Enumerable.Reverse(_best) : Maximize ? _best.OrderByDescending(b => b.Score) : _best.OrderBy(b => b.Score);

    private int EpochInterval => EveryNEpochs ?? (EveryNTrainSteps is > 0 ? 0 : 1);

    public override void OnFitStart(Trainer trainer, ILightningModule module)
    {
        // Lightning's __validate_init_configuration and __init_monitor_mode.
        if (!Enum.IsDefined(Mode)) throw new LightningException($"ModelCheckpoint.Mode has the unknown value {(int)Mode}: expected MonitorMode.Min or MonitorMode.Max.");
        if (SaveTopK < -1) throw new LightningException($"ModelCheckpoint.SaveTopK is {SaveTopK}: expected -1 (all), 0 or more.");
        if (EveryNEpochs < 0) throw new LightningException($"ModelCheckpoint.EveryNEpochs is {EveryNEpochs}: expected 0 (off) or more.");
        if (EveryNTrainSteps < 0) throw new LightningException($"ModelCheckpoint.EveryNTrainSteps is {EveryNTrainSteps}: expected 0 (off) or more.");
        if (EveryNEpochs is >= 1 && EveryNTrainSteps is >= 1)
            throw new LightningException($"ModelCheckpoint.EveryNEpochs ({EveryNEpochs}) and EveryNTrainSteps ({EveryNTrainSteps}) exclude each other: set one of them.");
        if (string.IsNullOrWhiteSpace(Filename)) throw new LightningException("ModelCheckpoint.Filename is empty.");
        if (SaveTopK > 1 && Monitor is null)
            throw new LightningException($"ModelCheckpoint.SaveTopK is {SaveTopK} but no Monitor is set: which checkpoints are best needs a monitored metric.");
        ResolvedDirPath = DirPath ?? Path.Combine(trainer.LogDir, "checkpoints");
        _lastGlobalStepSaved = -1;
        _lastCheckpointSaved = null;
        _deferUntilValidation = false;
    }

    public override void OnTrainBatchEnd(Trainer trainer, ILightningModule module, TorchSharp.torch.Tensor? loss, long batchIdx)
    {
        if (EveryNTrainSteps is not int n || n < 1 || trainer.GlobalStep % n != 0 || SkipSaving(trainer)) return;
        var candidates = Candidates(trainer);
        // A metric that only validation logs is not there yet: save when the next validation ends (Lightning defers too).
        if (Monitor is not null && !candidates.ContainsKey(Monitor))
        {
            _deferUntilValidation = true;
            return;
        }
        SaveTopKCheckpoint(trainer, candidates);
        SaveLastCheckpoint(trainer, candidates);
    }

    public override void OnTrainEpochEnd(Trainer trainer, ILightningModule module)
    {
        if (SkipSaving(trainer) || !SavesOnTrainEpochEnd(trainer)) return;
        SaveAtEpochEnd(trainer);
    }

    public override void OnValidationEnd(Trainer trainer, ILightningModule module)
    {
        if (SkipSaving(trainer) || SavesOnTrainEpochEnd(trainer)) return;
        if (_deferUntilValidation)
        {
            var candidates = Candidates(trainer);
            SaveTopKCheckpoint(trainer, candidates);
            SaveLastCheckpoint(trainer, candidates);
            _deferUntilValidation = false;
            return;
        }
        SaveAtEpochEnd(trainer);
    }

    public override void OnTrainEnd(Trainer trainer, ILightningModule module)
    {
        // SaveLast holds even when no top-k checkpoint was due (e.g. EveryNEpochs = 5 in a 3-epoch fit), as Lightning's on_train_end.
        if (SaveLast && _lastCheckpointSaved is null && trainer.Options.FastDevRun == 0 && trainer.GlobalStep > 0)
            SaveLastCheckpoint(trainer, Candidates(trainer));
    }

    private void SaveAtEpochEnd(Trainer trainer)
    {
        var candidates = Candidates(trainer);
        if (EpochInterval >= 1 && (trainer.CurrentEpoch + 1) % EpochInterval == 0) SaveTopKCheckpoint(trainer, candidates);
        // The last checkpoint goes with a checkpoint saved now.
        if (_lastGlobalStepSaved == trainer.GlobalStep) SaveLastCheckpoint(trainer, candidates);
    }

    /// <summary>Lightning's <c>_should_skip_saving_checkpoint</c>: not in fast_dev_run, not outside a fit, not twice at one step.</summary>
    private bool SkipSaving(Trainer trainer) =>
        trainer.Options.FastDevRun > 0 || !trainer.IsFitting || _lastGlobalStepSaved == trainer.GlobalStep;

    /// <summary>Lightning's <c>_should_save_on_train_epoch_end</c>.</summary>
    private bool SavesOnTrainEpochEnd(Trainer trainer)
    {
        if (SaveOnTrainEpochEnd is bool explicitly) return explicitly;
        if (trainer.Options.CheckValEveryNEpoch != 1) return false;   // validation not every epoch: save when it has run
        if (!trainer.HasValidation) return true;
        return trainer.Options.ValCheckInterval == BatchLimit.All;
    }

    /// <summary>Lightning's <c>_monitor_candidates</c>: the logged metrics, plus <c>epoch</c> and <c>step</c>.</summary>
    private static Dictionary<string, double> Candidates(Trainer trainer)
    {
        var candidates = new Dictionary<string, double>(trainer.CallbackMetrics, StringComparer.Ordinal)
        {
            ["epoch"] = trainer.CallbackMetrics.TryGetValue("epoch", out var e) ? Math.Truncate(e) : trainer.CurrentEpoch,
            ["step"] = trainer.CallbackMetrics.TryGetValue("step", out var s) ? Math.Truncate(s) : trainer.GlobalStep,
        };
        return candidates;
    }

    private void SaveTopKCheckpoint(Trainer trainer, Dictionary<string, double> candidates)
    {
        if (SaveTopK == 0) return;
        if (Monitor is null)
        {
            SaveNoneMonitorCheckpoint(trainer, candidates);
            return;
        }
        if (!candidates.TryGetValue(Monitor, out double current))
        {
            // Before any validation a validation metric may be missing: no top-k save yet. After one, it is an error.
            if (trainer.HasValidated) trainer.MonitoredMetric(nameof(ModelCheckpoint), Monitor);
            return;
        }
        if (!IsTopK(current)) return;
        UpdateBestAndSave(trainer, current, candidates);
    }

    /// <summary>Lightning's <c>check_monitor_top_k</c>: room left, or better than the k-th (NaN never is).</summary>
    private bool IsTopK(double current)
    {
        if (SaveTopK < 0 || _best.Count < SaveTopK) return true;
        var worst = Ranked().Last().Score;
        return Maximize ? current > worst : current < worst;
    }

    /// <summary>Lightning's <c>_update_best_and_save</c>: a NaN score is kept as the worst value (+inf for min, -inf for max).</summary>
    private void UpdateBestAndSave(Trainer trainer, double current, Dictionary<string, double> candidates)
    {
        int k = SaveTopK == -1 ? _best.Count + 1 : SaveTopK;
        (string Path, double Score)? removed = null;
        if (_best.Count == k && k > 0)
        {
            removed = Ranked().Last();
            _best.Remove(removed.Value);
        }
        if (double.IsNaN(current)) current = Maximize ? double.NegativeInfinity : double.PositiveInfinity;
        var path = FreePath(candidates, removed?.Path);
        _best.Add((path, current));
        Save(trainer, path);
        if (removed is { } gone && ShouldRemove(trainer, gone.Path, path)) Remove(trainer, gone.Path);
    }

    /// <summary>Lightning's <c>_save_none_monitor_checkpoint</c>: the latest checkpoint (all of them with SaveTopK = -1).</summary>
    private void SaveNoneMonitorCheckpoint(Trainer trainer, Dictionary<string, double> candidates)
    {
        var previous = _best.Count > 0 ? _best[^1].Path : null;
        // As Lightning: the previous checkpoint's path may be taken again (a constant name is overwritten, not versioned).
        var path = FreePath(candidates, previous);
        if (SaveTopK == 1) _best.Clear();
        _best.RemoveAll(b => b.Path == path);
        _best.Add((path, double.NaN));
        Save(trainer, path);
        if (SaveTopK == 1 && previous is not null && ShouldRemove(trainer, previous, path)) Remove(trainer, previous);
    }

    /// <summary>Lightning's <c>_save_last_checkpoint</c>: <c>last.ckpt</c>, or <c>last-v1.ckpt</c> when another fit's <c>last.ckpt</c> is there.</summary>
    private void SaveLastCheckpoint(Trainer trainer, Dictionary<string, double> candidates)
    {
        if (!SaveLast) return;
        var path = VersionedPath("last", LastModelPath);
        var previous = LastModelPath;
        LastModelPath = path;   // part of the state saved in the file
        Save(trainer, path);
        if (previous is not null && ShouldRemove(trainer, previous, path)) Remove(trainer, previous);
    }

    /// <summary>
    /// Writes the fit's state now as this callback's last checkpoint (<c>last.ckpt</c>, or the last file it already keeps),
    /// whatever <see cref="SaveLast"/> says: what a fit stopped by SIGTERM/SIGINT, or failing in a step, leaves to resume
    /// from (Lightning's <c>OnExceptionCheckpoint</c>). "last" then resolves to it. Returns its path.
    /// </summary>
    internal string SaveForResume(Trainer trainer)
    {
        var path = VersionedPath("last", LastModelPath);
        var previous = LastModelPath;
        LastModelPath = path;
        Save(trainer, path);
        if (previous is not null && ShouldRemove(trainer, previous, path)) Remove(trainer, previous);
        return path;
    }

    private void Save(Trainer trainer, string path)
    {
        if (trainer.IsGlobalZero)   // data-parallel: only rank 0 touches files
        {
            var folder = Path.GetDirectoryName(path)!;
            Directory.CreateDirectory(folder);
            RemoveInterruptedWrites(folder);
        }
        _lastGlobalStepSaved = trainer.GlobalStep;
        _lastCheckpointSaved = path;
        trainer.SaveCheckpoint(path);
    }

    private static void Remove(Trainer trainer, string path)
    {
        if (trainer.IsGlobalZero && File.Exists(path)) File.Delete(path);
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
        var dir = Path.GetFullPath(ResolvedDirPath!).TrimEnd(Path.DirectorySeparatorChar) + Path.DirectorySeparatorChar;
        return full.StartsWith(dir, StringComparison.Ordinal);
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

    /// <summary>The path for the formatted name; a clash with a file other than <paramref name="replacing"/> gets <c>-v1</c>, <c>-v2</c>... (never overwritten).</summary>
    private string FreePath(Dictionary<string, double> candidates, string? replacing) =>
        VersionedPath(FilenameTemplate.Format(Filename, candidates, AutoInsertMetricName), replacing);

    /// <summary>
    /// Expands a Lightning filename template with <paramref name="epoch"/>, <paramref name="step"/> and
    /// <paramref name="metrics"/>: <c>{epoch:03d}-{val_loss:.2f}</c> gives <c>epoch=003-val_loss=0.02</c>; see <see cref="FilenameTemplate"/>.
    /// </summary>
    public static string FormatName(string template, int epoch, long step, IReadOnlyDictionary<string, double> metrics, bool autoInsertMetricName = true)
    {
        var candidates = new Dictionary<string, double>(metrics, StringComparer.Ordinal) { ["epoch"] = epoch, ["step"] = step };
        return FilenameTemplate.Format(template, candidates, autoInsertMetricName);
    }

    private string VersionedPath(string name, string? replacing)
    {
        var dir = ResolvedDirPath ?? throw new LightningException("ModelCheckpoint: the fit has not started (OnFitStart was not called).");
        var path = Path.Combine(dir, name + ".ckpt");
        for (int v = 1; File.Exists(path) && path != replacing; v++)
            path = Path.Combine(dir, $"{name}-v{v}.ckpt");
        return path;
    }

    public override string? StateKey =>
        $"ModelCheckpoint{{monitor={Monitor},mode={Mode.ToLightningString()},every_n_train_steps={EveryNTrainSteps ?? 0},every_n_epochs={EpochInterval}}}";

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
            if (double.IsNaN(score)) writer.WriteNull("score");
            else if (double.IsInfinity(score)) writer.WriteString("score", score > 0 ? "inf" : "-inf");
            else writer.WriteNumber("score", score);
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
            saved.Add((path, entry.TryGetProperty("score", out var s) ? Score(s, checkpointPath, key) : double.NaN));
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

    /// <summary>
    /// The best checkpoint that this callback's state (its own <see cref="StateKey"/>) records in <paramref name="file"/> and
    /// that still exists, ranked by this callback's <see cref="Mode"/>; null when it has no monitor or records none.
    /// </summary>
    public string? BestRecordedIn(string file)
    {
        if (Monitor is null) return null;
        using var states = Checkpoint.OpenAny(file).JsonMetadata("callbacks");
        if (states is null || !CheckpointJson.Object(states.RootElement, file, "callbacks").TryGetProperty(StateKey!, out var state)) return null;
        var key = StateKey!;
        var best = new List<(string Path, double Score)>();
        foreach (var e in CheckpointJson.Array(CheckpointJson.Required(state, "best_k_models", file, key), file, key + ".best_k_models").EnumerateArray())
        {
            var path = CheckpointJson.String(CheckpointJson.Required(e, "path", file, key + ".best_k_models[]"), file, key + ".best_k_models[].path")!;
            double score = e.TryGetProperty("score", out var s) ? Score(s, file, key) : double.NaN;
            if (!double.IsNaN(score) && File.Exists(path)) best.Add((path, score));
        }
        return best.Count == 0 ? null : (Maximize ? best.OrderByDescending(b => b.Score) : best.OrderBy(b => b.Score)).First().Path;
    }

    /// <summary>A saved score: a number, null (no score), or "inf" / "-inf" (a NaN kept as the worst value).</summary>
    private static double Score(System.Text.Json.JsonElement s, string checkpointPath, string key) =>
        s.ValueKind == System.Text.Json.JsonValueKind.String
            ? CheckpointJson.String(s, checkpointPath, key + ".best_k_models[].score") switch
            {
                "inf" => double.PositiveInfinity,
                "-inf" => double.NegativeInfinity,
                var other => throw new CheckpointException(checkpointPath, $"'{key}.best_k_models[].score' is \"{other}\"; expected a number, null, \"inf\" or \"-inf\""),
            }
            : CheckpointJson.Number(s, checkpointPath, key + ".best_k_models[].score", allowNonFinite: true);
}
