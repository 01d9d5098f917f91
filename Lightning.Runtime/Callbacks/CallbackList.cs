using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using Lightning.Profiling;
using TorchSharp;

namespace Lightning.Callbacks;

/// <summary>
/// The callbacks of a run, in call order (the trainer's, then the module's own hooks), and one method per hook
/// that calls them all. A plain array walk: with no callbacks a batch hook costs a length check. Under a profiler
/// (<see cref="TrainerOptions.Profiler"/>) each callback's call of each hook is timed, as Lightning's
/// <c>_call_callback_hooks</c> profiles <c>[Callback]{state_key}.{hook}</c>; without one no clock is read (a null check).
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
        for (int i = 0; i < _all.Length; i++)
        {
            var c = _all[i];
            long started = Stamp();
            c.OnFitStart(_trainer, _module);
            if (_profiler is not null) Timed(i, Hook.FitStart, started);
        }
    }

    public void FitEnd()
    {
        for (int i = 0; i < _all.Length; i++)
        {
            var c = _all[i];
            long started = Stamp();
            c.OnFitEnd(_trainer, _module);
            if (_profiler is not null) Timed(i, Hook.FitEnd, started);
        }
    }

    public void SanityCheckStart()
    {
        for (int i = 0; i < _all.Length; i++)
        {
            var c = _all[i];
            long started = Stamp();
            c.OnSanityCheckStart(_trainer, _module);
            if (_profiler is not null) Timed(i, Hook.SanityCheckStart, started);
        }
    }

    public void SanityCheckEnd()
    {
        for (int i = 0; i < _all.Length; i++)
        {
            var c = _all[i];
            long started = Stamp();
            c.OnSanityCheckEnd(_trainer, _module);
            if (_profiler is not null) Timed(i, Hook.SanityCheckEnd, started);
        }
    }

    public void TrainStart()
    {
        for (int i = 0; i < _all.Length; i++)
        {
            var c = _all[i];
            long started = Stamp();
            c.OnTrainStart(_trainer, _module);
            if (_profiler is not null) Timed(i, Hook.TrainStart, started);
        }
    }

    public void TrainEnd()
    {
        for (int i = 0; i < _all.Length; i++)
        {
            var c = _all[i];
            long started = Stamp();
            c.OnTrainEnd(_trainer, _module);
            if (_profiler is not null) Timed(i, Hook.TrainEnd, started);
        }
    }

    public void TrainEpochStart()
    {
        for (int i = 0; i < _all.Length; i++)
        {
            var c = _all[i];
            long started = Stamp();
            c.OnTrainEpochStart(_trainer, _module);
            if (_profiler is not null) Timed(i, Hook.TrainEpochStart, started);
        }
    }

    public void TrainEpochEnd()
    {
        for (int i = 0; i < _all.Length; i++)
        {
            var c = _all[i];
            long started = Stamp();
            c.OnTrainEpochEnd(_trainer, _module);
            if (_profiler is not null) Timed(i, Hook.TrainEpochEnd, started);
        }
    }

    public void TrainBatchStart(long batchIdx)
    {
        for (int i = 0; i < _all.Length; i++)
        {
            var c = _all[i];
            long started = Stamp();
            c.OnTrainBatchStart(_trainer, _module, batchIdx);
            if (_profiler is not null) Timed(i, Hook.TrainBatchStart, started);
        }
    }

    public void TrainBatchEnd(torch.Tensor? loss, long batchIdx)
    {
        for (int i = 0; i < _all.Length; i++)
        {
            var c = _all[i];
            long started = Stamp();
            c.OnTrainBatchEnd(_trainer, _module, loss, batchIdx);
            if (_profiler is not null) Timed(i, Hook.TrainBatchEnd, started);
        }
    }

    public void BeforeBackward(torch.Tensor loss)
    {
        for (int i = 0; i < _all.Length; i++)
        {
            var c = _all[i];
            long started = Stamp();
            c.OnBeforeBackward(_trainer, _module, loss);
            if (_profiler is not null) Timed(i, Hook.BeforeBackward, started);
        }
    }

    public void AfterBackward()
    {
        for (int i = 0; i < _all.Length; i++)
        {
            var c = _all[i];
            long started = Stamp();
            c.OnAfterBackward(_trainer, _module);
            if (_profiler is not null) Timed(i, Hook.AfterBackward, started);
        }
    }

    public void BeforeOptimizerStep(torch.optim.Optimizer optimizer)
    {
        for (int i = 0; i < _all.Length; i++)
        {
            var c = _all[i];
            long started = Stamp();
            c.OnBeforeOptimizerStep(_trainer, _module, optimizer);
            if (_profiler is not null) Timed(i, Hook.BeforeOptimizerStep, started);
        }
    }

    public void BeforeZeroGrad(torch.optim.Optimizer optimizer)
    {
        for (int i = 0; i < _all.Length; i++)
        {
            var c = _all[i];
            long started = Stamp();
            c.OnBeforeZeroGrad(_trainer, _module, optimizer);
            if (_profiler is not null) Timed(i, Hook.BeforeZeroGrad, started);
        }
    }

    public void EvaluationStart(Stage stage)
    {
        for (int i = 0; i < _all.Length; i++)
        {
            var c = _all[i];
            long started = Stamp();
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
            long started = Stamp();
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
        for (int i = 0; i < _all.Length; i++)
        {
            var c = _all[i];
            long started = Stamp();
            c.OnValidationBatchStart(_trainer, _module, batchIdx);
            if (_profiler is not null) Timed(i, Hook.ValidationBatchStart, started);
        }
    }

    public void ValidationBatchEnd(long batchIdx)
    {
        for (int i = 0; i < _all.Length; i++)
        {
            var c = _all[i];
            long started = Stamp();
            c.OnValidationBatchEnd(_trainer, _module, batchIdx);
            if (_profiler is not null) Timed(i, Hook.ValidationBatchEnd, started);
        }
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

    /// <summary>The hooks a callback list times, named as <c>ICallback</c>'s methods without their <c>On</c> (a test ties them to the hook catalogue).</summary>
    internal enum Hook
    {
        FitStart, FitEnd, SanityCheckStart, SanityCheckEnd, TrainStart, TrainEnd, TrainEpochStart, TrainEpochEnd, TrainBatchStart, TrainBatchEnd,
        BeforeBackward, AfterBackward, BeforeOptimizerStep, BeforeZeroGrad, ValidationStart, ValidationEnd, TestStart, TestEnd, PredictStart,
        PredictEnd, ValidationBatchStart, ValidationBatchEnd,
    }

    /// <summary>
    /// Lightning's hook names (src/lightning/pytorch/callbacks/callback.py), which the profile's actions end with: each
    /// <see cref="Hook"/> member's hook (<c>OnTrainBatchStart</c>) in snake case (<c>on_train_batch_start</c>).
    /// </summary>
    internal static readonly string[] HookNames = Enum.GetNames<Hook>().Select(SnakeCaseHook).ToArray();

    private static string SnakeCaseHook(string hook)
    {
        var sb = new StringBuilder("on");
        foreach (char ch in hook)
        {
            if (char.IsUpper(ch)) sb.Append('_').Append(char.ToLowerInvariant(ch));
            else sb.Append(ch);
        }
        return sb.ToString();
    }

    /// <summary>The profiler's clock now, or 0 without a profiler (no clock read).</summary>
    private long Stamp() => _profiler is null ? 0 : SimpleProfiler.Now();

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
