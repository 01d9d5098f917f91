namespace Lightning;

/// <summary>
/// A trainer callback, as Lightning's <c>Callback</c>: override the hooks you need. Hooks run once per fit or
/// per epoch, never per batch, in the order the callbacks were given in <see cref="TrainerOptions.Callbacks"/>.
/// Order within an epoch: <see cref="OnTrainEpochStart"/>, the training batches, validation,
/// <see cref="OnValidationEnd"/>, <see cref="OnTrainEpochEnd"/>.
/// </summary>
public abstract class Callback
{
    /// <summary>After the module is on its device and the optimizer is configured, before the sanity check.</summary>
    public virtual void OnFitStart(Trainer trainer, ILightningModule module) { }

    /// <summary>Before the first training batch of each epoch.</summary>
    public virtual void OnTrainEpochStart(Trainer trainer, ILightningModule module) { }

    /// <summary>After each validation run during a fit (not the sanity check); <see cref="Trainer.CallbackMetrics"/> holds its means.</summary>
    public virtual void OnValidationEnd(Trainer trainer, ILightningModule module) { }

    /// <summary>After each training epoch, its validation included.</summary>
    public virtual void OnTrainEpochEnd(Trainer trainer, ILightningModule module) { }

    /// <summary>After the last epoch.</summary>
    public virtual void OnFitEnd(Trainer trainer, ILightningModule module) { }
}
