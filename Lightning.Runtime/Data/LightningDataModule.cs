using System.Collections.Generic;

namespace Lightning;

/// <summary>
/// Everything a module needs from its data, as in Lightning's <c>LightningDataModule</c>: download or check
/// files once (<see cref="PrepareData"/>), build datasets per stage (<see cref="Setup"/>), and hand out
/// loaders. A loader is any re-enumerable sequence of batches; the trainer owns the tensors of each batch it
/// takes and frees them at the end of the step.
/// </summary>
/// <typeparam name="TBatch">The batch type the module's steps take, e.g. <c>(Tensor X, Tensor Y)</c>.</typeparam>
public abstract class LightningDataModule<TBatch>
{
    /// <summary>Called once before <see cref="Setup"/>: check or fetch files. Must not keep state.</summary>
    public virtual void PrepareData() { }

    /// <summary>Builds the datasets the <paramref name="stage"/> needs.</summary>
    public virtual void Setup(Stage stage) { }

    /// <summary>The training batches; required by <c>Fit</c>.</summary>
    public virtual IEnumerable<TBatch>? TrainDataLoader() => null;

    /// <summary>The validation batches, or null for none.</summary>
    public virtual IEnumerable<TBatch>? ValDataLoader() => null;

    /// <summary>The test batches, or null for none.</summary>
    public virtual IEnumerable<TBatch>? TestDataLoader() => null;

    /// <summary>The batches to predict on, or null for none.</summary>
    public virtual IEnumerable<TBatch>? PredictDataLoader() => null;

    /// <summary>Releases what <see cref="Setup"/> built for <paramref name="stage"/>.</summary>
    public virtual void Teardown(Stage stage) { }
}
