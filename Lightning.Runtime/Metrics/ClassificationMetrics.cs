using System;
using System.Linq;
using static TorchSharp.torch;

namespace Lightning.Metrics;

/// <summary>Binary (one score per sample) or multiclass (one class per sample) classification.</summary>
public enum ClassificationTask
{
    /// <summary>Predictions are probabilities or logits of the positive class ([N]); targets 0 or 1.</summary>
    Binary,
    /// <summary>Predictions are scores per class ([N, C]) or class indices ([N]); targets 0..C-1.</summary>
    Multiclass,
}

/// <summary>How per-class values combine into one number.</summary>
public enum Average
{
    /// <summary>Count every sample: from the summed true positives, false positives and false negatives.</summary>
    Micro,
    /// <summary>The plain mean over classes (those that occur in the targets or predictions).</summary>
    Macro,
    /// <summary>The mean over classes weighted by each class's number of targets.</summary>
    Weighted,
}

/// <summary>
/// The confusion matrix, accumulated on the device: rows are targets, columns predictions. The base of
/// <see cref="Accuracy"/>, <see cref="Precision"/>, <see cref="Recall"/>, <see cref="F1Score"/> and <see cref="BalancedAccuracy"/>.
/// Binary predictions are probabilities (thresholded at <see cref="Threshold"/>) or logits (any value outside [0, 1]
/// makes the batch logits, passed through a sigmoid first, as torchmetrics); multiclass predictions are scores per class
/// (argmax) or class indices. Targets or predicted classes out of range are counted and reported by <see cref="Compute"/>,
/// without a host sync per update.
/// </summary>
public class ConfusionMatrix : Metric
{
    private Tensor? _matrix;
    private Tensor? _invalid;

    /// <summary>A confusion matrix for <paramref name="task"/>; multiclass needs <paramref name="numClasses"/>.</summary>
    public ConfusionMatrix(ClassificationTask task, int numClasses = 2, double threshold = 0.5)
    {
        if (task == ClassificationTask.Binary) numClasses = 2;
        if (numClasses < 2) throw new LightningException($"{Name}: numClasses is {numClasses}; expected 2 or more.");
        if (threshold is < 0 or > 1) throw new LightningException($"{Name}: threshold is {threshold}; expected a probability in [0, 1].");
        Task = task;
        NumClasses = numClasses;
        Threshold = threshold;
    }

    /// <summary>Binary or multiclass.</summary>
    public ClassificationTask Task { get; }

    /// <summary>The number of classes (2 for binary).</summary>
    public int NumClasses { get; }

    /// <summary>The probability from which a binary prediction is positive.</summary>
    public double Threshold { get; }

    /// <inheritdoc/>
    public override void Update(Tensor preds, Tensor target)
    {
        ArgumentNullException.ThrowIfNull(preds);
        ArgumentNullException.ThrowIfNull(target);
        using var scope = NewDisposeScope();
        var predicted = PredictedClasses(preds, target);
        var t = target.to_type(ScalarType.Int64).flatten();
        long c = NumClasses;
        var valid = t.ge(0).logical_and(t.lt(c)).logical_and(predicted.ge(0)).logical_and(predicted.lt(c));
        var index = t.clamp(0, c - 1) * c + predicted.clamp(0, c - 1);
        _matrix = _matrix is null ? State(new[] { c, c }, ScalarType.Int64, t.device) : OnDevice(_matrix, t.device);
        _invalid = _invalid is null ? State(Array.Empty<long>(), ScalarType.Int64, t.device) : OnDevice(_invalid, t.device);
        _matrix.view(-1).index_add_(0, index, valid.to_type(ScalarType.Int64), 1);
        _invalid.add_(valid.logical_not().sum());
    }

    /// <summary>The class each sample is predicted to be ([N], int64), after checking the shapes against the targets.</summary>
    private Tensor PredictedClasses(Tensor preds, Tensor target)
    {
        string Shapes() => $"preds [{string.Join(", ", preds.shape)}], target [{string.Join(", ", target.shape)}]";
        if (target.is_floating_point() && Task == ClassificationTask.Multiclass)
            throw new LightningException($"{Name}: multiclass targets must be class indices (an integer tensor), got {target.dtype} ({Shapes()}).");
        if (Task == ClassificationTask.Binary)
        {
            if (!preds.shape.SequenceEqual(target.shape))
                throw new LightningException($"{Name}: binary predictions need one score per target, got {Shapes()}.");
            if (!preds.is_floating_point()) return preds.to_type(ScalarType.Int64).flatten();
            var p = preds.flatten();
            // Logits when any value is outside [0, 1] (decided on the device, no host read).
            var isLogits = p.lt(0).logical_or(p.gt(1)).any();
            var probs = where(isLogits, p.sigmoid(), p);
            return probs.ge(Threshold).to_type(ScalarType.Int64);
        }
        if (preds.dim() == target.dim() + 1 && preds.shape.Take((int)target.dim()).SequenceEqual(target.shape))
        {
            if (preds.shape[^1] != NumClasses)
                throw new LightningException($"{Name}: predictions have {preds.shape[^1]} class scores but numClasses is {NumClasses} ({Shapes()}).");
            return preds.argmax(-1).flatten();
        }
        if (preds.shape.SequenceEqual(target.shape)) return preds.to_type(ScalarType.Int64).flatten();
        throw new LightningException($"{Name}: expected predictions [N, {NumClasses}] (scores) or [N] (classes) for targets [N], got {Shapes()}.");
    }

    /// <summary>The matrix ([C, C], int64: rows targets, columns predictions); an error when a target or prediction was out of range.</summary>
    public override Tensor Compute() => Matrix();

    /// <summary>A copy of the accumulated matrix, after checking no sample was out of range.</summary>
    protected Tensor Matrix()
    {
        if (_matrix is null) throw new LightningException($"{Name}.Compute: no batch was added (call Update first).");
        Diagnostics.HostSync.Record();
        long invalid = _invalid!.item<long>();
        if (invalid > 0)
            throw new LightningException($"{Name}: {invalid} target(s) or predicted class(es) were outside 0..{NumClasses - 1}; check numClasses and the labels.");
        return _matrix.clone();
    }

    /// <inheritdoc/>
    public override void Reset()
    {
        _matrix?.zero_();
        _invalid?.zero_();
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        _matrix?.Dispose();
        _invalid?.Dispose();
        _matrix = _invalid = null;
    }

    /// <summary>Per-class true positives, false positives, false negatives and support, as float64 tensors.</summary>
    protected (Tensor Tp, Tensor Fp, Tensor Fn, Tensor Support) Counts()
    {
        var m = Matrix().to_type(ScalarType.Float64);
        var tp = m.diagonal();
        return (tp, m.sum(0L) - tp, m.sum(1L) - tp, m.sum(1L));   // 0L: a literal 0 would bind to sum(ScalarType)
    }

    /// <summary>a / b, with 0 where b is 0 (torchmetrics' zero_division = 0).</summary>
    protected static Tensor SafeDivide(Tensor a, Tensor b) => where(b.eq(0), zeros_like(a), a / where(b.eq(0), ones_like(b), b));

    /// <summary>Combines per-class <paramref name="values"/> by <paramref name="average"/>; for binary, the positive class (1).</summary>
    protected Tensor Combine(Tensor values, Tensor micro, Average average, Tensor tp, Tensor fp, Tensor fn, Tensor support)
    {
        if (Task == ClassificationTask.Binary) return values[1];
        switch (average)
        {
            case Average.Micro: return micro;
            case Average.Weighted: return SafeDivide((values * support).sum(), support.sum());
            default:
                var present = (support + fp).gt(0);   // classes in the targets or the predictions
                return SafeDivide((values * present.to_type(ScalarType.Float64)).sum(), present.sum().to_type(ScalarType.Float64));
        }
    }
}

/// <summary>Accuracy: the share of samples predicted right; with <see cref="TopK"/> &gt; 1, right when the target is among the k best scores.</summary>
public sealed class Accuracy : ConfusionMatrix
{
    private Tensor? _correct;
    private Tensor? _total;

    /// <summary>Accuracy for <paramref name="task"/>; <paramref name="topK"/> needs multiclass scores.</summary>
    public Accuracy(ClassificationTask task, int numClasses = 2, int topK = 1, double threshold = 0.5) : base(task, numClasses, threshold)
    {
        if (topK < 1 || topK > NumClasses) throw new LightningException($"Accuracy: topK is {topK}; expected 1..{NumClasses}.");
        if (topK > 1 && task == ClassificationTask.Binary) throw new LightningException("Accuracy: topK applies to multiclass scores, not to a binary task.");
        TopK = topK;
    }

    /// <summary>How many of the best scores may hold the target.</summary>
    public int TopK { get; }

    /// <inheritdoc/>
    public override void Update(Tensor preds, Tensor target)
    {
        if (TopK == 1) { base.Update(preds, target); return; }
        if (preds.dim() != 2 || preds.shape[1] != NumClasses || target.dim() != 1 || target.shape[0] != preds.shape[0])
            throw new LightningException($"Accuracy (topK = {TopK}): expected scores [N, {NumClasses}] and targets [N], got preds [{string.Join(", ", preds.shape)}], target [{string.Join(", ", target.shape)}].");
        using var scope = NewDisposeScope();
        var t = target.to_type(ScalarType.Int64);
        var hit = preds.topk(TopK, dim: 1).indexes.eq(t.unsqueeze(1)).any(1).sum();
        _correct = _correct is null ? State(Array.Empty<long>(), ScalarType.Int64, t.device) : OnDevice(_correct, t.device);
        _total = _total is null ? State(Array.Empty<long>(), ScalarType.Int64, t.device) : OnDevice(_total, t.device);
        _correct.add_(hit);
        _total.add_(t.shape[0]);
    }

    /// <inheritdoc/>
    public override Tensor Compute()
    {
        if (TopK > 1)
        {
            if (_correct is null) throw new LightningException("Accuracy.Compute: no batch was added (call Update first).");
            return SafeDivide(_correct.to_type(ScalarType.Float64), _total!.to_type(ScalarType.Float64));
        }
        using var scope = NewDisposeScope();
        var m = Matrix().to_type(ScalarType.Float64);
        return SafeDivide(m.diagonal().sum(), m.sum()).MoveToOuterDisposeScope();
    }

    /// <inheritdoc/>
    public override void Reset()
    {
        base.Reset();
        _correct?.zero_();
        _total?.zero_();
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        _correct?.Dispose();
        _total?.Dispose();
        _correct = _total = null;
    }
}

/// <summary>Precision: of the samples predicted as a class, the share that are (binary: of the positive class).</summary>
public sealed class Precision(ClassificationTask task, int numClasses = 2, Average average = Average.Macro, double threshold = 0.5)
    : ConfusionMatrix(task, numClasses, threshold)
{
    /// <summary>How the per-class values combine (multiclass).</summary>
    public Average Average { get; } = average;

    /// <inheritdoc/>
    public override Tensor Compute()
    {
        using var scope = NewDisposeScope();
        var (tp, fp, fn, support) = Counts();
        return Combine(SafeDivide(tp, tp + fp), SafeDivide(tp.sum(), (tp + fp).sum()), Average, tp, fp, fn, support).MoveToOuterDisposeScope();
    }
}

/// <summary>Recall: of the samples of a class, the share predicted as it (binary: of the positive class).</summary>
public sealed class Recall(ClassificationTask task, int numClasses = 2, Average average = Average.Macro, double threshold = 0.5)
    : ConfusionMatrix(task, numClasses, threshold)
{
    /// <summary>How the per-class values combine (multiclass).</summary>
    public Average Average { get; } = average;

    /// <inheritdoc/>
    public override Tensor Compute()
    {
        using var scope = NewDisposeScope();
        var (tp, fp, fn, support) = Counts();
        return Combine(SafeDivide(tp, tp + fn), SafeDivide(tp.sum(), (tp + fn).sum()), Average, tp, fp, fn, support).MoveToOuterDisposeScope();
    }
}

/// <summary>F1: the harmonic mean of precision and recall, per class, then combined (micro: from the summed counts).</summary>
public sealed class F1Score(ClassificationTask task, int numClasses = 2, Average average = Average.Macro, double threshold = 0.5)
    : ConfusionMatrix(task, numClasses, threshold)
{
    /// <summary>How the per-class values combine (multiclass).</summary>
    public Average Average { get; } = average;

    /// <inheritdoc/>
    public override Tensor Compute()
    {
        using var scope = NewDisposeScope();
        var (tp, fp, fn, support) = Counts();
        var f1 = SafeDivide(2 * tp, 2 * tp + fp + fn);
        var micro = SafeDivide(2 * tp.sum(), (2 * tp + fp + fn).sum());
        return Combine(f1, micro, Average, tp, fp, fn, support).MoveToOuterDisposeScope();
    }
}

/// <summary>
/// Balanced accuracy: the mean of the recall of each class that occurs in the targets (scikit-learn's
/// <c>balanced_accuracy_score</c>), for binary and multiclass tasks alike.
/// </summary>
public sealed class BalancedAccuracy(ClassificationTask task, int numClasses = 2, double threshold = 0.5)
    : ConfusionMatrix(task, numClasses, threshold)
{
    /// <inheritdoc/>
    public override Tensor Compute()
    {
        using var scope = NewDisposeScope();
        var (tp, _, fn, support) = Counts();
        var present = support.gt(0).to_type(ScalarType.Float64);
        return SafeDivide((SafeDivide(tp, tp + fn) * present).sum(), present.sum()).MoveToOuterDisposeScope();
    }
}
