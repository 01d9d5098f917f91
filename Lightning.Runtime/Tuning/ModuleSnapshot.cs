using System.Collections.Generic;
using System.Linq;
using TorchSharp;
using static TorchSharp.torch;

namespace Lightning.Tuning;

/// <summary>
/// What the learning-rate finder puts back after its sweep, in memory rather than in Lightning's temporary
/// <c>.lr_find_*.ckpt</c> (so nothing is written): every tensor of the module's state dict (parameters and buffers, cloned on
/// their device and in their dtype), its train/eval mode, its device and floating-point type, and TorchSharp's CPU
/// random-number generator.
/// </summary>
internal sealed class ModuleSnapshot
{
    private readonly ILightningModule _model;
    private readonly List<(string Key, Tensor Value)> _state;
    private readonly bool _training;
    private readonly Tensor _rng;

    private ModuleSnapshot(ILightningModule model)
    {
        _model = model;
        _rng = get_rng_state();
        model.RegisterComponentsOnce();
        var module = model.Module;
        _training = module.training;
        using (no_grad())
            _state = module.state_dict().Select(kv => (kv.Key, kv.Value.detach().clone().DetachFromDisposeScope())).ToList();
    }

    /// <summary>Takes the snapshot (call it before anything seeds, moves or trains the module).</summary>
    public static ModuleSnapshot Take(ILightningModule model) => new(model);

    /// <summary>Puts everything back, bit for bit, and frees the copies.</summary>
    public void Restore()
    {
        var module = _model.Module;
        // The sweep's fit moved the module to its device and precision; a floating-point tensor's dtype tells the original.
        var floating = _state.Select(s => s.Value).FirstOrDefault(t => t.is_floating_point());
        if (floating is not null)
        {
            var current = module.state_dict().Values.FirstOrDefault(t => t.is_floating_point());
            if (current is not null && current.device.ToString() != floating.device.ToString()) module.to(floating.device);
            if (current is not null && current.dtype != floating.dtype) module.to(floating.dtype);
        }
        using (no_grad())
        {
            var live = module.state_dict();
            foreach (var (key, value) in _state) live[key].copy_(value);
        }
        module.train(_training);
        set_rng_state(_rng);
        foreach (var (_, value) in _state) value.Dispose();
        _rng.Dispose();
    }
}
