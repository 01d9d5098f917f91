using System.Collections.Generic;
using Lightning.Callbacks;
using Lightning.Data;
using Lightning.Reporting;

namespace Lightning.Loops;

/// <summary>A fit's batches, typed away: what <see cref="FitLoop"/> does with them (once per epoch or validation, never per batch).</summary>
internal interface IFitData
{
    /// <summary>Training batches per epoch when known without enumerating, else null.</summary>
    long? TrainCount { get; }

    /// <summary>Validation batches when known, else null.</summary>
    long? ValCount { get; }

    /// <summary>The fit has validation batches and a validation step.</summary>
    bool HasValidation { get; }

    /// <summary>Tells a loader that reshuffles per epoch which epoch begins.</summary>
    void SetEpoch(int epoch);

    /// <summary>Runs the module's generated training epoch from batch <paramref name="firstBatch"/> (a resume skips the ones before).</summary>
    void RunEpoch(long firstBatch, TrainingLoop loop);

    /// <summary>Runs the validation step over at most <paramref name="limit"/> batches; returns the logged means.</summary>
    List<KeyValuePair<string, double>> Validate(BatchLimit limit, string title, ProgressBar? progress, CallbackList callbacks);
}

/// <summary>The batches of one fit of a module whose batches are <typeparamref name="TBatch"/>.</summary>
internal sealed class FitData<TBatch>(ILightningModule<TBatch> model, IEnumerable<TBatch> train, IValidationModule<TBatch>? validation,
    IEnumerable<TBatch>? val, BatchTransfer transfer) : IFitData
{
    public long? TrainCount => Trainer.CountOf(train);

    public long? ValCount => val is null ? null : Trainer.CountOf(val);

    public bool HasValidation => val is not null && validation is not null;

    public void SetEpoch(int epoch)
    {
        if (train is IEpochAware epochAware) epochAware.SetEpoch(epoch);
    }

    public void RunEpoch(long firstBatch, TrainingLoop loop) =>
        model.RunTrainingEpoch(firstBatch > 0 ? new SkippedBatches<TBatch>(train, firstBatch) : train, loop);

    public List<KeyValuePair<string, double>> Validate(BatchLimit limit, string title, ProgressBar? progress, CallbackList callbacks) =>
        EvaluationLoop.Run(model, validation!.RunValidation, val!, Stage.Validate, limit, title, progress, transfer, callbacks);
}
