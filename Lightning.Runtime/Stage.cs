namespace Lightning;

/// <summary>What the trainer is doing: the <c>stage</c> argument of Lightning's <c>setup</c> and <c>teardown</c>.</summary>
public enum Stage
{
    /// <summary><see cref="Trainer.Fit{TBatch}(ILightningModule{TBatch}, LightningDataModule{TBatch}, string?)"/>: training with validation.</summary>
    Fit,
    /// <summary>A validation run on its own (<see cref="Trainer.Validate{TBatch}(IValidationModule{TBatch}, LightningDataModule{TBatch})"/>).</summary>
    Validate,
    /// <summary>A test run.</summary>
    Test,
    /// <summary>A prediction run.</summary>
    Predict,
}
