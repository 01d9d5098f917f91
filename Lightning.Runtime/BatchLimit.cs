using System;
using System.Globalization;

namespace Lightning;

/// <summary>
/// How many batches of a loader to use, as Lightning's <c>limit_*_batches</c>: a whole number is a count of
/// batches, a fraction in [0, 1] a share of the loader. Both convert implicitly: <c>LimitTrainBatches = 10</c>
/// or <c>LimitTrainBatches = 0.25</c>.
/// </summary>
public readonly record struct BatchLimit
{
    private BatchLimit(long? count, double? fraction) { Count = count; Fraction = fraction; }

    /// <summary>A batch count, or null when this limit is a fraction.</summary>
    public long? Count { get; }

    /// <summary>A fraction of the loader, or null when this limit is a count.</summary>
    public double? Fraction { get; }

    /// <summary>Every batch.</summary>
    public static BatchLimit All { get; } = new(null, 1.0);

    /// <summary>At most <paramref name="count"/> batches.</summary>
    public static BatchLimit Batches(long count) =>
        count >= 0 ? new(count, null) : throw new ArgumentOutOfRangeException(nameof(count), count, "A batch limit must be 0 or more.");

    /// <summary>A share of the loader, between 0 and 1.</summary>
    public static BatchLimit Share(double fraction) =>
        fraction is >= 0 and <= 1 ? new(null, fraction) : throw new ArgumentOutOfRangeException(nameof(fraction), fraction, "A batch fraction must be between 0.0 and 1.0.");

    public static implicit operator BatchLimit(int count) => Batches(count);
    public static implicit operator BatchLimit(long count) => Batches(count);
    public static implicit operator BatchLimit(double fraction) => Share(fraction);

    /// <summary>The number of batches to run out of a loader of <paramref name="available"/> batches (null: unknown length).</summary>
    public long Resolve(long? available)
    {
        if (Count is long c) return available is long a ? Math.Min(a, c) : c;
        double f = Fraction ?? 1.0;
        if (available is not long n) return f >= 1.0 ? long.MaxValue : throw new LightningException(
            $"A fractional batch limit ({f.ToString(CultureInfo.InvariantCulture)}) needs a loader whose length is known (an IReadOnlyCollection); give a batch count instead.");
        if (f >= 1.0) return n;
        long k = (long)Math.Floor(n * f);
        return f > 0 && n > 0 ? Math.Max(1, k) : k;   // a positive share runs at least one batch
    }

    /// <summary>A count as a whole number ("10"), a fraction with its decimal point ("1.0", "0.25"), as Lightning tells int from float.</summary>
    public override string ToString() =>
        Count is long c ? c.ToString(CultureInfo.InvariantCulture) : (Fraction ?? 1.0).ToString("0.0###############", CultureInfo.InvariantCulture);
}
