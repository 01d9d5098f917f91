using System;
using System.Collections.Generic;
using TorchSharp;

namespace Lightning.Callbacks;

/// <summary>
/// The callbacks of a run, in call order (the trainer's, then the module's own hooks), and one method per hook
/// that calls them all. A plain array walk: with no callbacks a batch hook costs a length check.
/// </summary>
internal sealed class CallbackList
{
    private readonly ICallback[] _all;
    private readonly Trainer _trainer;
    private readonly ILightningModule _module;

    public CallbackList(Trainer trainer, ILightningModule module, IEnumerable<ICallback> callbacks)
    {
        _trainer = trainer;
        _module = module;
        var all = new List<ICallback>(callbacks);
        // The module's own hook methods (generated ICallback implementation) run after the callbacks, as in Lightning.
        if (module is ICallback own && !all.Contains(own)) all.Add(own);
        _all = all.ToArray();
    }

    public IReadOnlyList<ICallback> All => _all;

    public void FitStart() { foreach (var c in _all) c.OnFitStart(_trainer, _module); }
    public void FitEnd() { foreach (var c in _all) c.OnFitEnd(_trainer, _module); }
    public void SanityCheckStart() { foreach (var c in _all) c.OnSanityCheckStart(_trainer, _module); }
    public void SanityCheckEnd() { foreach (var c in _all) c.OnSanityCheckEnd(_trainer, _module); }
    public void TrainStart() { foreach (var c in _all) c.OnTrainStart(_trainer, _module); }
    public void TrainEnd() { foreach (var c in _all) c.OnTrainEnd(_trainer, _module); }
    public void TrainEpochStart() { foreach (var c in _all) c.OnTrainEpochStart(_trainer, _module); }
    public void TrainEpochEnd() { foreach (var c in _all) c.OnTrainEpochEnd(_trainer, _module); }
    public void TrainBatchStart(long batchIdx) { foreach (var c in _all) c.OnTrainBatchStart(_trainer, _module, batchIdx); }
    public void TrainBatchEnd(torch.Tensor? loss, long batchIdx) { foreach (var c in _all) c.OnTrainBatchEnd(_trainer, _module, loss, batchIdx); }
    public void BeforeBackward(torch.Tensor loss) { foreach (var c in _all) c.OnBeforeBackward(_trainer, _module, loss); }
    public void AfterBackward() { foreach (var c in _all) c.OnAfterBackward(_trainer, _module); }
    public void BeforeOptimizerStep(torch.optim.Optimizer optimizer) { foreach (var c in _all) c.OnBeforeOptimizerStep(_trainer, _module, optimizer); }
    public void BeforeZeroGrad(torch.optim.Optimizer optimizer) { foreach (var c in _all) c.OnBeforeZeroGrad(_trainer, _module, optimizer); }

    public void EvaluationStart(Stage stage)
    {
        foreach (var c in _all)
        {
            switch (stage)
            {
                case Stage.Validate: c.OnValidationStart(_trainer, _module); break;
                case Stage.Test: c.OnTestStart(_trainer, _module); break;
                case Stage.Predict: c.OnPredictStart(_trainer, _module); break;
            }
        }
    }

    public void EvaluationEnd(Stage stage)
    {
        foreach (var c in _all)
        {
            switch (stage)
            {
                case Stage.Validate: c.OnValidationEnd(_trainer, _module); break;
                case Stage.Test: c.OnTestEnd(_trainer, _module); break;
                case Stage.Predict: c.OnPredictEnd(_trainer, _module); break;
            }
        }
    }

    public void ValidationBatchStart(long batchIdx) { foreach (var c in _all) c.OnValidationBatchStart(_trainer, _module, batchIdx); }
    public void ValidationBatchEnd(long batchIdx) { foreach (var c in _all) c.OnValidationBatchEnd(_trainer, _module, batchIdx); }

    public void Exception(Exception e)
    {
        foreach (var c in _all)
        {
            try { c.OnException(_trainer, _module, e); }
            catch (Exception) { /* the original failure is what the user needs to see */ }
        }
    }
}
