using System.Collections;
using System.Collections.Generic;
using TorchSharp;

namespace Lightning.Data;

/// <summary>
/// A loader's batches after the first <c>skip</c>, for a fit that resumes within an epoch: the skipped batches are
/// still produced (so the loader's order and random state advance exactly as in the interrupted run) and freed at once.
/// </summary>
internal sealed class SkippedBatches<TBatch>(IEnumerable<TBatch> source, long skip) : IEnumerable<TBatch>
{
    public IEnumerator<TBatch> GetEnumerator()
    {
        using var e = source.GetEnumerator();
        for (long i = 0; i < skip; i++)
        {
            using var scope = torch.NewDisposeScope();
            if (!e.MoveNext()) yield break;
        }
        while (e.MoveNext()) yield return e.Current;
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
