using System.Collections.Generic;
using TorchSharp.Modules;

namespace Lightning.Checkpoints;

/// <summary>
/// The optimizers whose state checkpoints store as named tensors: TorchSharp 0.107's <c>Adam</c>, <c>AdamW</c>,
/// <c>SGD</c>, <c>RMSProp</c> and <c>Adagrad</c>, with PyTorch's names for their hyperparameters and state tensors.
/// The ranges are those TorchSharp's constructors enforce; every field of each <c>Options</c> and <c>State</c>
/// class is covered, so a restore sets exactly what TorchSharp's own <c>load_state_dict</c> would.
/// </summary>
internal static class OptimizerLayouts
{
    /// <summary>Every supported layout.</summary>
    public static IReadOnlyList<OptimizerLayout> All { get; } = new OptimizerLayout[] { AdamLayout(), AdamWLayout(), SgdLayout(), RmsPropLayout(), AdagradLayout() };

    private static OptimizerLayout AdamLayout() =>
        new OptimizerLayout<Adam, Adam.Options, Adam.State>("adam")
            .Pair("betas", o => (o.beta1, o.beta2), (o, v) => (o.beta1, o.beta2) = v, NumberRange.Fraction)
            .Number("eps", o => o.eps, (o, v) => o.eps = v, NumberRange.NonNegative)
            .Number("weight_decay", o => o.weight_decay, (o, v) => o.weight_decay = v, NumberRange.NonNegative)
            .Flag("amsgrad", o => o.amsgrad, (o, v) => o.amsgrad = v)
            .Flag("maximize", o => o.maximize, (o, v) => o.maximize = v)
            .Step(s => s.step, (s, v) => s.step = v)
            .StateTensor("exp_avg", s => s.exp_avg, (s, t) => s.exp_avg = t)
            .StateTensor("exp_avg_sq", s => s.exp_avg_sq, (s, t) => s.exp_avg_sq = t, nonNegative: true)
            .StateTensor("max_exp_avg_sq", s => s.max_exp_avg_sq, (s, t) => s.max_exp_avg_sq = t, requiredWhen: o => o.amsgrad == true, nonNegative: true);

    private static OptimizerLayout AdamWLayout() =>
        new OptimizerLayout<AdamW, AdamW.Options, AdamW.State>("adamw")
            .Pair("betas", o => (o.beta1, o.beta2), (o, v) => (o.beta1, o.beta2) = v, NumberRange.Fraction)
            .Number("eps", o => o.eps, (o, v) => o.eps = v, NumberRange.NonNegative)
            .Number("weight_decay", o => o.weight_decay, (o, v) => o.weight_decay = v, NumberRange.NonNegative)
            .Flag("amsgrad", o => o.amsgrad, (o, v) => o.amsgrad = v)
            .Flag("maximize", o => o.maximize, (o, v) => o.maximize = v)
            .Step(s => s.step, (s, v) => s.step = v)
            .StateTensor("exp_avg", s => s.exp_avg, (s, t) => s.exp_avg = t)
            .StateTensor("exp_avg_sq", s => s.exp_avg_sq, (s, t) => s.exp_avg_sq = t, nonNegative: true)
            .StateTensor("max_exp_avg_sq", s => s.max_exp_avg_sq, (s, t) => s.max_exp_avg_sq = t, requiredWhen: o => o.amsgrad == true, nonNegative: true);

    /// <summary>SGD has no step counter; its momentum buffer exists only after a step with momentum.</summary>
    private static OptimizerLayout SgdLayout() =>
        new OptimizerLayout<SGD, SGD.Options, SGD.State>("sgd")
            .Number("momentum", o => o.momentum, (o, v) => o.momentum = v, NumberRange.NonNegative)
            .Number("dampening", o => o.dampening, (o, v) => o.dampening = v, NumberRange.Finite)
            .Number("weight_decay", o => o.weight_decay, (o, v) => o.weight_decay = v, NumberRange.NonNegative)
            .Flag("nesterov", o => o.nesterov, (o, v) => o.nesterov = v)
            .Flag("maximize", o => o.maximize, (o, v) => o.maximize = v)
            .Rule(o => o.nesterov == true && (o.momentum <= 0 || o.dampening != 0) ? "nesterov is true, which needs momentum > 0 and dampening 0" : null)
            .StateTensor("momentum_buffer", s => s.momentum_buffer, (s, t) => s.momentum_buffer = t, requiredWhen: _ => false);

    /// <summary>TorchSharp's RMSProp allocates all three buffers whatever its momentum and centered options.</summary>
    private static OptimizerLayout RmsPropLayout() =>
        new OptimizerLayout<RMSProp, RMSProp.Options, RMSProp.State>("rmsprop")
            .Number("alpha", o => o.alpha, (o, v) => o.alpha = v, NumberRange.NonNegative)
            .Number("eps", o => o.eps, (o, v) => o.eps = v, NumberRange.NonNegative)
            .Number("weight_decay", o => o.weight_decay, (o, v) => o.weight_decay = v, NumberRange.NonNegative)
            .Number("momentum", o => o.momentum, (o, v) => o.momentum = v, NumberRange.NonNegative)
            .Flag("centered", o => o.centered, (o, v) => o.centered = v)
            .Flag("maximize", o => o.maximize, (o, v) => o.maximize = v)
            .Step(s => s.step, (s, v) => s.step = v)
            .StateTensor("square_avg", s => s.square_avg, (s, t) => s.square_avg = t, nonNegative: true)
            .StateTensor("momentum_buffer", s => s.momentum_buffer, (s, t) => s.momentum_buffer = t)
            .StateTensor("grad_avg", s => s.grad_avg, (s, t) => s.grad_avg = t);

    private static OptimizerLayout AdagradLayout() =>
        new OptimizerLayout<Adagrad, Adagrad.Options, Adagrad.State>("adagrad")
            .Number("lr_decay", o => o.lr_decay, (o, v) => o.lr_decay = v, NumberRange.NonNegative)
            .Number("eps", o => o.eps, (o, v) => o.eps = v, NumberRange.NonNegative)
            .Number("weight_decay", o => o.weight_decay, (o, v) => o.weight_decay = v, NumberRange.NonNegative)
            .Number("initial_accumulator_value", o => o.initial_accumulator_value, (o, v) => o.initial_accumulator_value = v, NumberRange.NonNegative)
            .Step(s => s.step, (s, v) => s.step = v)
            .StateTensor("sum", s => s.sum, (s, t) => s.sum = t, nonNegative: true);
}
