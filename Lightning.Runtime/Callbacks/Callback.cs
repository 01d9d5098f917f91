using System;
using System.Text.Json;
using TorchSharp;

namespace Lightning;

/// <summary>
/// A trainer callback: Lightning's hooks, each with an empty default. The trainer calls the hooks of every callback
/// in <see cref="TrainerOptions.Callbacks"/> in list order, then the module's own hook methods. The order of a fit is
/// in docs/hooks.md. Derive from <see cref="Callback"/>, or mark a class <c>[Callback]</c> and let the generator
/// implement this interface from its methods named as hooks.
/// </summary>
public interface ICallback
{
    /// <summary>After the module is on its device and the optimizer is configured, before the sanity check.</summary>
    void OnFitStart(Trainer trainer, ILightningModule module) { }

    /// <summary>After training ended (the last hook of a fit).</summary>
    void OnFitEnd(Trainer trainer, ILightningModule module) { }

    /// <summary>Before the validation batches that check the validation step at the start of a fit.</summary>
    void OnSanityCheckStart(Trainer trainer, ILightningModule module) { }

    /// <summary>After the sanity check.</summary>
    void OnSanityCheckEnd(Trainer trainer, ILightningModule module) { }

    /// <summary>Training starts (after the sanity check).</summary>
    void OnTrainStart(Trainer trainer, ILightningModule module) { }

    /// <summary>Training ended, before <see cref="OnFitEnd"/>.</summary>
    void OnTrainEnd(Trainer trainer, ILightningModule module) { }

    /// <summary>Before the first training batch of each epoch.</summary>
    void OnTrainEpochStart(Trainer trainer, ILightningModule module) { }

    /// <summary>After each training epoch, its validation included, before the epoch's scheduler step.</summary>
    void OnTrainEpochEnd(Trainer trainer, ILightningModule module) { }

    /// <summary>Before a training step, with the batch on its device.</summary>
    void OnTrainBatchStart(Trainer trainer, ILightningModule module, long batchIdx) { }

    /// <summary>
    /// After a training step and its optimizer step, inside the step's dispose scope: <paramref name="loss"/> is the
    /// step's return value (null when it returned null). Reading it (e.g. <c>loss.item&lt;float&gt;()</c>) waits for the device.
    /// </summary>
    void OnTrainBatchEnd(Trainer trainer, ILightningModule module, torch.Tensor? loss, long batchIdx) { }

    /// <summary>Before <c>loss.backward()</c> (automatic optimization).</summary>
    void OnBeforeBackward(Trainer trainer, ILightningModule module, torch.Tensor loss) { }

    /// <summary>After <c>loss.backward()</c>, before clipping and the optimizer step.</summary>
    void OnAfterBackward(Trainer trainer, ILightningModule module) { }

    /// <summary>Before the optimizer step, after gradient clipping.</summary>
    void OnBeforeOptimizerStep(Trainer trainer, ILightningModule module, torch.optim.Optimizer optimizer) { }

    /// <summary>Before the gradients are cleared after an optimizer step.</summary>
    void OnBeforeZeroGrad(Trainer trainer, ILightningModule module, torch.optim.Optimizer optimizer) { }

    /// <summary>Before a validation run (during a fit or <c>Validate</c>; not the sanity check).</summary>
    void OnValidationStart(Trainer trainer, ILightningModule module) { }

    /// <summary>After a validation run; <see cref="Trainer.CallbackMetrics"/> holds its means.</summary>
    void OnValidationEnd(Trainer trainer, ILightningModule module) { }

    /// <summary>Before a validation step.</summary>
    void OnValidationBatchStart(Trainer trainer, ILightningModule module, long batchIdx) { }

    /// <summary>After a validation step, inside its dispose scope.</summary>
    void OnValidationBatchEnd(Trainer trainer, ILightningModule module, long batchIdx) { }

    /// <summary>Before a test run.</summary>
    void OnTestStart(Trainer trainer, ILightningModule module) { }

    /// <summary>After a test run.</summary>
    void OnTestEnd(Trainer trainer, ILightningModule module) { }

    /// <summary>Before a prediction run.</summary>
    void OnPredictStart(Trainer trainer, ILightningModule module) { }

    /// <summary>After a prediction run.</summary>
    void OnPredictEnd(Trainer trainer, ILightningModule module) { }

    /// <summary>When a fit fails with <paramref name="exception"/> (before it propagates).</summary>
    void OnException(Trainer trainer, ILightningModule module, Exception exception) { }

    /// <summary>
    /// The key of this callback's state in checkpoints (e.g. <c>EarlyStopping{monitor=val_acc,mode=max}</c>), or
    /// null when it has no state to save.
    /// </summary>
    string? StateKey => null;

    /// <summary>Writes this callback's state (one JSON value) into a checkpoint.</summary>
    void SaveState(Utf8JsonWriter writer) { }

    /// <summary>Restores the state written by <see cref="SaveState"/> when a fit resumes from a checkpoint.</summary>
    void LoadState(JsonElement state, string checkpointPath) { }
}

/// <summary>
/// A base class for callbacks, as Lightning's <c>Callback</c>: override the hooks you need (see <see cref="ICallback"/>).
/// </summary>
public abstract class Callback : ICallback
{
    public virtual void OnFitStart(Trainer trainer, ILightningModule module) { }
    public virtual void OnFitEnd(Trainer trainer, ILightningModule module) { }
    public virtual void OnSanityCheckStart(Trainer trainer, ILightningModule module) { }
    public virtual void OnSanityCheckEnd(Trainer trainer, ILightningModule module) { }
    public virtual void OnTrainStart(Trainer trainer, ILightningModule module) { }
    public virtual void OnTrainEnd(Trainer trainer, ILightningModule module) { }
    public virtual void OnTrainEpochStart(Trainer trainer, ILightningModule module) { }
    public virtual void OnTrainEpochEnd(Trainer trainer, ILightningModule module) { }
    public virtual void OnTrainBatchStart(Trainer trainer, ILightningModule module, long batchIdx) { }
    public virtual void OnTrainBatchEnd(Trainer trainer, ILightningModule module, torch.Tensor? loss, long batchIdx) { }
    public virtual void OnBeforeBackward(Trainer trainer, ILightningModule module, torch.Tensor loss) { }
    public virtual void OnAfterBackward(Trainer trainer, ILightningModule module) { }
    public virtual void OnBeforeOptimizerStep(Trainer trainer, ILightningModule module, torch.optim.Optimizer optimizer) { }
    public virtual void OnBeforeZeroGrad(Trainer trainer, ILightningModule module, torch.optim.Optimizer optimizer) { }
    public virtual void OnValidationStart(Trainer trainer, ILightningModule module) { }
    public virtual void OnValidationEnd(Trainer trainer, ILightningModule module) { }
    public virtual void OnValidationBatchStart(Trainer trainer, ILightningModule module, long batchIdx) { }
    public virtual void OnValidationBatchEnd(Trainer trainer, ILightningModule module, long batchIdx) { }
    public virtual void OnTestStart(Trainer trainer, ILightningModule module) { }
    public virtual void OnTestEnd(Trainer trainer, ILightningModule module) { }
    public virtual void OnPredictStart(Trainer trainer, ILightningModule module) { }
    public virtual void OnPredictEnd(Trainer trainer, ILightningModule module) { }
    public virtual void OnException(Trainer trainer, ILightningModule module, Exception exception) { }
    public virtual string? StateKey => null;
    public virtual void SaveState(Utf8JsonWriter writer) { }
    public virtual void LoadState(JsonElement state, string checkpointPath) { }
}
