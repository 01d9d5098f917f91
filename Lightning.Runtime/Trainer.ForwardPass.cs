namespace Lightning;

// A pass of the training steps over the training data with no backward and no optimizer step, for callbacks that
// recompute BatchNorm statistics (StochasticWeightAveraging, as Lightning's extra "BatchNorm epoch" and PyTorch's update_bn).
public sealed partial class Trainer
{
    /// <summary>
    /// Runs the module's training step over the fit's training batches in train mode without gradients: no backward, no
    /// optimizer step, no batch hooks; the fit's progress and published metrics stay as they are. Only the module's buffers
    /// change, e.g. BatchNorm's running statistics. Callable from a callback during a fit (e.g. in <c>OnTrainEnd</c>).
    /// </summary>
    internal void RunTrainingForwardPass() =>
        (_fit ?? throw new LightningException("RunTrainingForwardPass: no fit is running.")).RunTrainingForwardPass();
}
