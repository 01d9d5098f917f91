using System.Collections.Generic;
using TorchSharp;

namespace Lightning.Tuning;

/// <summary>
/// The module as the sweep's fit sees it: the same weights, steps and hooks, but <c>[ConfigureOptimizers]</c> gives only the
/// optimizer. The module's scheduler is left out, as Lightning's <c>_exchange_scheduler</c> replaces it with the finder's: the
/// finder sets the rate of every step itself, and a plateau scheduler would ask for a validation metric the sweep never logs.
/// No validation interface either: the sweep only trains.
/// </summary>
internal sealed class LrFinderModule<TBatch>(ILightningModule<TBatch> inner, LrFinderCallback finder) : ILightningModule<TBatch>
{
    public string ModuleTypeName => inner.ModuleTypeName;

    public IHyperParameters HyperParameters => inner.HyperParameters;

    public torch.nn.Module Module => inner.Module;

    public bool AutomaticOptimization => inner.AutomaticOptimization;

    public MetricStore Metrics => inner.Metrics;

    public void RegisterComponentsOnce() => inner.RegisterComponentsOnce();

    public Optimization ConfigureOptimizers()
    {
        var optimization = inner.ConfigureOptimizers() ?? throw new LightningException(
            $"{inner.ModuleTypeName}'s [ConfigureOptimizers] method returned null: it must return an optimizer.");
        finder.Attach(optimization.Optimizer);
        return new Optimization(optimization.Optimizer);
    }

    public void RunTrainingEpoch(IEnumerable<TBatch> batches, TrainingLoop loop) => inner.RunTrainingEpoch(batches, loop);
}
