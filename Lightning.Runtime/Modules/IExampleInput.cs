using TorchSharp;

namespace Lightning;

/// <summary>
/// A module that gives an example input, as Lightning's <c>example_input_array</c>: the model summary then runs it
/// once (eval mode, no gradients) and shows each layer's input and output sizes.
/// </summary>
public interface IExampleInput
{
    /// <summary>An input batch for <c>forward</c>, e.g. <c>torch.zeros(1, 1, 28, 28)</c>.</summary>
    torch.Tensor ExampleInputArray { get; }
}
