using Lightning.Data;
using Lightning.Reporting;
namespace Lightning.Callbacks;

/// <summary>
/// Prints the model summary (layers, types, parameter counts, train/eval mode and totals) and the hyperparameter
/// table when a fit starts, as Lightning's <c>ModelSummary</c>. Added by default (<see cref="TrainerOptions.EnableModelSummary"/>).
/// </summary>
public sealed class ModelSummary : Callback
{
    /// <summary>How deep to list nested layers (1: the module's direct children), as Lightning's <c>max_depth</c>.</summary>
    public int MaxDepth { get; init; } = 1;

    public override void OnFitStart(Trainer trainer, ILightningModule module)
    {
        if (MaxDepth < 1) throw new LightningException($"ModelSummary.MaxDepth is {MaxDepth}: expected 1 or more.");
        var output = trainer.Output;
        output.WriteLine(ModelSummaryTable.Format(module.Module, MaxDepth));
        output.WriteLine();
        output.WriteLine(HyperParameterTable.Format(module.HyperParameters));
        output.WriteLine();
    }
}
