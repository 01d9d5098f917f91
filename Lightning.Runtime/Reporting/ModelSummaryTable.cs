using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;
using TorchSharp;

namespace Lightning.Reporting;

/// <summary>
/// Lightning's model summary: the layers down to a depth (nested names joined by dots) with their types,
/// parameter counts and train/eval mode, the input and output sizes when the module gives an example input
/// (<see cref="IExampleInput"/>; TorchSharp runs the forward hooks that record them only for layers invoked with
/// <c>call(x)</c>, as Sequential does, so layers invoked with <c>forward(x)</c> show "?"), then totals.
/// </summary>
public static class ModelSummaryTable
{
    /// <summary>Formats the summary table of <paramref name="module"/>, listing layers down to <paramref name="maxDepth"/> levels (1: the top-level layers).</summary>
    public static string Format(torch.nn.Module module, int maxDepth = 1)
    {
        if (maxDepth < 1) throw new ArgumentOutOfRangeException(nameof(maxDepth), maxDepth, "ModelSummary.MaxDepth must be 1 or more.");
        var rows = new List<(string Index, string Name, string Type, string Params, string Mode, torch.nn.Module Layer)>();
        int i = 0;
        void Walk(torch.nn.Module parent, string prefix, int depth)
        {
            foreach (var (name, child) in parent.named_children())
            {
                rows.Add((i++.ToString(CultureInfo.InvariantCulture), prefix + name, child.GetType().Name,
                    Count(child.parameters().Sum(p => p.numel())), child.training ? "train" : "eval", child));
                if (depth < maxDepth) Walk(child, prefix + name + ".", depth + 1);
            }
        }
        Walk(module, "", 1);
        var sizes = module is IExampleInput example && module is torch.nn.Module<torch.Tensor, torch.Tensor> forward
            ? Sizes(forward, example.ExampleInputArray, rows.Select(r => r.Layer))
            : null;

        long trainable = 0, frozen = 0, bytes = 0;
        foreach (var p in module.parameters())
        {
            if (p.requires_grad) trainable += p.numel(); else frozen += p.numel();
            bytes += p.numel() * p.element_size();
        }

        int wi = Math.Max(1, rows.Select(r => r.Index.Length).DefaultIfEmpty(0).Max());
        int wn = Math.Max(4, rows.Select(r => r.Name.Length).DefaultIfEmpty(0).Max());
        int wt = Math.Max(4, rows.Select(r => r.Type.Length).DefaultIfEmpty(0).Max());
        int wp = Math.Max(6, rows.Select(r => r.Params.Length).DefaultIfEmpty(0).Max());
        string header = $"{"".PadRight(wi)} | {"Name".PadRight(wn)} | {"Type".PadRight(wt)} | {"Params".PadRight(wp)} | Mode ";
        int wIn = 0, wOut = 0;
        if (sizes is not null)
        {
            wIn = Math.Max(8, sizes.Values.Select(s => s.In.Length).DefaultIfEmpty(0).Max());
            wOut = Math.Max(9, sizes.Values.Select(s => s.Out.Length).DefaultIfEmpty(0).Max());
            header += $" | {"In sizes".PadRight(wIn)} | {"Out sizes".PadRight(wOut)}";
        }
        var rule = new string('-', header.Length);
        var sb = new StringBuilder();
        sb.AppendLine(header).AppendLine(rule);
        foreach (var r in rows)
        {
            var line = $"{r.Index.PadRight(wi)} | {r.Name.PadRight(wn)} | {r.Type.PadRight(wt)} | {r.Params.PadRight(wp)} | {r.Mode.PadRight(5)}";
            if (sizes is not null)
            {
                var (inSize, outSize) = sizes.TryGetValue(r.Layer, out var s) ? s : ("?", "?");
                line += $" | {inSize.PadRight(wIn)} | {outSize.PadRight(wOut)}";
            }
            sb.AppendLine(line);
        }
        sb.AppendLine(rule);
        sb.AppendLine($"{Count(trainable),-10}Trainable params");
        sb.AppendLine($"{Count(frozen),-10}Non-trainable params");
        sb.AppendLine($"{Count(trainable + frozen),-10}Total params");
        sb.Append($"{(bytes / 1e6).ToString("0.000", CultureInfo.InvariantCulture),-10}Total estimated model params size (MB)");
        return sb.ToString();
    }

    /// <summary>
    /// Runs <paramref name="input"/> through <paramref name="module"/> once in eval mode without gradients and records
    /// the input and output shape of each listed layer that takes and returns one tensor (others show "?").
    /// </summary>
    private static Dictionary<torch.nn.Module, (string In, string Out)> Sizes(torch.nn.Module<torch.Tensor, torch.Tensor> module, torch.Tensor input, IEnumerable<torch.nn.Module> layers)
    {
        var sizes = new Dictionary<torch.nn.Module, (string, string)>(ReferenceEqualityComparer.Instance);
        var removers = new List<Action>();
        bool wasTraining = module.training;
        try
        {
            foreach (var layer in layers)
            {
                if (layer is not torch.nn.Module<torch.Tensor, torch.Tensor> hookable) continue;
                var key = layer;
                var remover = hookable.register_forward_hook((m, x, y) =>
                {
                    sizes[key] = (Shape(x), Shape(y));
                    return y;
                });
                removers.Add(remover.remove);
            }
            module.eval();
            using var noGrad = torch.no_grad();
            using var scope = torch.NewDisposeScope();
            var device = module.parameters().Select(p => p.device).FirstOrDefault() ?? torch.CPU;
            module.call(input.to(device));
        }
        finally
        {
            foreach (var remove in removers) remove();
            if (wasTraining) module.train();
        }
        return sizes;
    }

    private static string Shape(torch.Tensor t) => "[" + string.Join(", ", t.shape) + "]";

    /// <summary>A parameter count as Lightning prints it: 640, 73.9 K, 137 K, 1.2 M (three significant digits, truncated from 100 up).</summary>
    public static string Count(long n)
    {
        var ci = CultureInfo.InvariantCulture;
        string[] labels = { "", " K", " M", " B", " T" };
        int digits = n > 0 ? (int)Math.Floor(Math.Log10(n)) + 1 : 1;
        int groups = Math.Min((digits + 2) / 3, labels.Length);
        double scaled = n / Math.Pow(10, 3 * (groups - 1));
        if (groups == 1 || scaled >= 100) return ((long)scaled).ToString(ci) + labels[groups - 1];
        return scaled.ToString("0.0", ci) + labels[groups - 1];
    }
}
