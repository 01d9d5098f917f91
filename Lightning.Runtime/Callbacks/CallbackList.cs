using System;
using System.Collections.Generic;
using Lightning.Profiling;
using TorchSharp;

namespace Lightning.Callbacks;

/// <summary>
/// The callbacks of a run, in call order (the trainer's, then the module's own hooks), and one method per hook
/// that calls them all. A plain array walk: with no callbacks a batch hook costs a length check. Under a profiler
/// (<see cref="TrainerOptions.Profiler"/>) each callback's call of each hook is timed, as Lightning's
/// <c>_call_callback_hooks</c> profiles <c>[Callback]{state_key}.{hook}</c>; without one the walk is the plain loop.
/// </summary>
internal sealed class CallbackList
{
    private readonly ICallback[] _all;
    private readonly Trainer _trainer;
    private readonly ILightningModule _module;
    private readonly SimpleProfiler? _profiler;
    private readonly int[]? _actions;   // under a profiler: the action id of (callback, hook), 0 until it first runs, then id + 1

    public CallbackList(Trainer trainer, ILightningModule module, IEnumerable<ICallback> callbacks, SimpleProfiler? profiler = null)
    {
        _trainer = trainer;
        _module = module;
        var all = new List<ICallback>(callbacks);
        // The module's own hook methods (generated ICallback implementation) run after the callbacks, as in Lightning.
        if (module is ICallback own && !all.Contains(own)) all.Add(own);
        _all = all.ToArray();
        _profiler = profiler;
        if (profiler is not null) _actions = new int[_all.Length * HookNames.Length];
    }

    public IReadOnlyList<ICallback> All => _all;

    public void FitStart()
    {
        if (_profiler is not null) { Profiled(Hook.FitStart, static (c, t, m) => c.OnFitStart(t, m)); return; }
        foreach (var c in _all) c.OnFitStart(_trainer, _module);
    }

    public void FitEnd()
    {
        if (_profiler is not null) { Profiled(Hook.FitEnd, static (c, t, m) => c.OnFitEnd(t, m)); return; }
        foreach (var c in _all) c.OnFitEnd(_trainer, _module);
    }

    public void SanityCheckStart()
    {
        if (_profiler is not null) { Profiled(Hook.SanityCheckStart, static (c, t, m) => c.OnSanityCheckStart(t, m)); return; }
        foreach (var c in _all) c.OnSanityCheckStart(_trainer, _module);
    }

    public void SanityCheckEnd()
    {
        if (_profiler is not null) { Profiled(Hook.SanityCheckEnd, static (c, t, m) => c.OnSanityCheckEnd(t, m)); return; }
        foreach (var c in _all) c.OnSanityCheckEnd(_trainer, _module);
    }

    public void TrainStart()
    {
        if (_profiler is not null) { Profiled(Hook.TrainStart, static (c, t, m) => c.OnTrainStart(t, m)); return; }
        foreach (var c in _all) c.OnTrainStart(_trainer, _module);
    }

    public void TrainEnd()
    {
        if (_profiler is not null) { Profiled(Hook.TrainEnd, static (c, t, m) => c.OnTrainEnd(t, m)); return; }
        foreach (var c in _all) c.OnTrainEnd(_trainer, _module);
    }

    public void TrainEpochStart()
    {
        if (_profiler is not null) { Profiled(Hook.TrainEpochStart, static (c, t, m) => c.OnTrainEpochStart(t, m)); return; }
        foreach (var c in _all) c.OnTrainEpochStart(_trainer, _module);
    }

    public void TrainEpochEnd()
    {
        if (_profiler is not null) { Profiled(Hook.TrainEpochEnd, static (c, t, m) => c.OnTrainEpochEnd(t, m)); return; }
        foreach (var c in _all) c.OnTrainEpochEnd(_trainer, _module);
    }

    public void TrainBatchStart(long batchIdx)
    {
        if (_profiler is not null) { Profiled(Hook.TrainBatchStart, batchIdx, static (c, t, m, batchIdx) => c.OnTrainBatchStart(t, m, batchIdx)); return; }
        foreach (var c in _all) c.OnTrainBatchStart(_trainer, _module, batchIdx);
    }

    public void TrainBatchEnd(torch.Tensor? loss, long batchIdx)
    {
        if (_profiler is not null) { Profiled(Hook.TrainBatchEnd, loss, batchIdx, static (c, t, m, loss, batchIdx) => c.OnTrainBatchEnd(t, m, loss, batchIdx)); return; }
        foreach (var c in _all) c.OnTrainBatchEnd(_trainer, _module, loss, batchIdx);
    }

    public void BeforeBackward(torch.Tensor loss)
    {
        if (_profiler is not null) { Profiled(Hook.BeforeBackward, loss, static (c, t, m, loss) => c.OnBeforeBackward(t, m, loss)); return; }
        foreach (var c in _all) c.OnBeforeBackward(_trainer, _module, loss);
    }

    public void AfterBackward()
    {
        if (_profiler is not null) { Profiled(Hook.AfterBackward, static (c, t, m) => c.OnAfterBackward(t, m)); return; }
        foreach (var c in _all) c.OnAfterBackward(_trainer, _module);
    }

    public void BeforeOptimizerStep(torch.optim.Optimizer optimizer)
    {
        if (_profiler is not null) { Profiled(Hook.BeforeOptimizerStep, optimizer, static (c, t, m, optimizer) => c.OnBeforeOptimizerStep(t, m, optimizer)); return; }
        foreach (var c in _all) c.OnBeforeOptimizerStep(_trainer, _module, optimizer);
    }

    public void BeforeZeroGrad(torch.optim.Optimizer optimizer)
    {
        if (_profiler is not null) { Profiled(Hook.BeforeZeroGrad, optimizer, static (c, t, m, optimizer) => c.OnBeforeZeroGrad(t, m, optimizer)); return; }
        foreach (var c in _all) c.OnBeforeZeroGrad(_trainer, _module, optimizer);
    }

    public void EvaluationStart(Stage stage)
    {
        for (int i = 0; i < _all.Length; i++)
        {
            var c = _all[i];
            long started = _profiler is null ? 0 : SimpleProfiler.Now();
            switch (stage)
            {
                case Stage.Validate: c.OnValidationStart(_trainer, _module); break;
                case Stage.Test: c.OnTestStart(_trainer, _module); break;
                case Stage.Predict: c.OnPredictStart(_trainer, _module); break;
            }
            if (_profiler is not null) Timed(i, stage == Stage.Validate ? Hook.ValidationStart : stage == Stage.Test ? Hook.TestStart : Hook.PredictStart, started);
        }
    }

    public void EvaluationEnd(Stage stage)
    {
        for (int i = 0; i < _all.Length; i++)
        {
            var c = _all[i];
            long started = _profiler is null ? 0 : SimpleProfiler.Now();
            switch (stage)
            {
                case Stage.Validate: c.OnValidationEnd(_trainer, _module); break;
                case Stage.Test: c.OnTestEnd(_trainer, _module); break;
                case Stage.Predict: c.OnPredictEnd(_trainer, _module); break;
            }
            if (_profiler is not null) Timed(i, stage == Stage.Validate ? Hook.ValidationEnd : stage == Stage.Test ? Hook.TestEnd : Hook.PredictEnd, started);
        }
    }

    public void ValidationBatchStart(long batchIdx)
    {
        if (_profiler is not null) { Profiled(Hook.ValidationBatchStart, batchIdx, static (c, t, m, batchIdx) => c.OnValidationBatchStart(t, m, batchIdx)); return; }
        foreach (var c in _all) c.OnValidationBatchStart(_trainer, _module, batchIdx);
    }

    public void ValidationBatchEnd(long batchIdx)
    {
        if (_profiler is not null) { Profiled(Hook.ValidationBatchEnd, batchIdx, static (c, t, m, batchIdx) => c.OnValidationBatchEnd(t, m, batchIdx)); return; }
        foreach (var c in _all) c.OnValidationBatchEnd(_trainer, _module, batchIdx);
    }

    public void Exception(Exception e)
    {
        foreach (var c in _all)
        {
            try { c.OnException(_trainer, _module, e); }
            catch (Exception) { /* the original failure is what the user needs to see */ }
        }
    }

    // ---------------------------------------------------------------- profiling

    /// <summary>The hooks, in the order of <see cref="HookNames"/>.</summary>
    private enum Hook
    {
        FitStart, FitEnd, SanityCheckStart, SanityCheckEnd, TrainStart, TrainEnd, TrainEpochStart, TrainEpochEnd, TrainBatchStart, TrainBatchEnd,
        BeforeBackward, AfterBackward, BeforeOptimizerStep, BeforeZeroGrad, ValidationStart, ValidationEnd, TestStart, TestEnd, PredictStart,
        PredictEnd, ValidationBatchStart, ValidationBatchEnd,
    }

    /// <summary>Lightning's hook names (src/lightning/pytorch/callbacks/callback.py), which the profile's actions end with.</summary>
    private static readonly string[] HookNames =
    {
        "on_fit_start", "on_fit_end", "on_sanity_check_start", "on_sanity_check_end", "on_train_start", "on_train_end", "on_train_epoch_start",
        "on_train_epoch_end", "on_train_batch_start", "on_train_batch_end", "on_before_backward", "on_after_backward", "on_before_optimizer_step",
        "on_before_zero_grad", "on_validation_start", "on_validation_end", "on_test_start", "on_test_end", "on_predict_start", "on_predict_end",
        "on_validation_batch_start", "on_validation_batch_end",
    };

    private void Profiled(Hook hook, Action<ICallback, Trainer, ILightningModule> call)
    {
        for (int i = 0; i < _all.Length; i++)
        {
            long started = SimpleProfiler.Now();
            call(_all[i], _trainer, _module);
            Timed(i, hook, started);
        }
    }

    private void Profiled<TA>(Hook hook, TA a, Action<ICallback, Trainer, ILightningModule, TA> call)
    {
        for (int i = 0; i < _all.Length; i++)
        {
            long started = SimpleProfiler.Now();
            call(_all[i], _trainer, _module, a);
            Timed(i, hook, started);
        }
    }

    private void Profiled<TA, TB>(Hook hook, TA a, TB b, Action<ICallback, Trainer, ILightningModule, TA, TB> call)
    {
        for (int i = 0; i < _all.Length; i++)
        {
            long started = SimpleProfiler.Now();
            call(_all[i], _trainer, _module, a, b);
            Timed(i, hook, started);
        }
    }

    /// <summary>
    /// Records callback <paramref name="index"/>'s call of <paramref name="hook"/> that began at <paramref name="started"/>. The action is
    /// named once, at its first call: <c>[Callback]{StateKey or type name}.{hook}</c>, or <c>[LightningModule]{class}.{hook}</c> for the
    /// module's own hook methods (Lightning's <c>_call_callback_hooks</c> and <c>_call_lightning_module_hook</c>).
    /// </summary>
    private void Timed(int index, Hook hook, long started)
    {
        long now = SimpleProfiler.Now();
        int slot = index * HookNames.Length + (int)hook;
        int id = _actions![slot] - 1;
        if (id < 0)
        {
            var c = _all[index];
            string owner = ReferenceEquals(c, _module) ? "[LightningModule]" + _profiler!.ModuleName : "[Callback]" + (c.StateKey ?? c.GetType().Name);
            id = _profiler!.Register(owner + "." + HookNames[(int)hook]);
            _actions[slot] = id + 1;
        }
        _profiler!.AddTicks(id, now - started);
    }
}
