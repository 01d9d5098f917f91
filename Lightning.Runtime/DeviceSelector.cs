using System;
using TorchSharp;

namespace Lightning;

/// <summary>Turns the <see cref="TrainerOptions.Device"/> string into a TorchSharp device.</summary>
public static class DeviceSelector
{
    /// <summary>Resolves "auto", "cpu", "cuda" or "cuda:N"; a CUDA request on a machine without CUDA is an error.</summary>
    public static torch.Device Resolve(string? device) => Resolve(device, torch.cuda.is_available(), () => torch.cuda.device_count());

    internal static torch.Device Resolve(string? device, bool cudaAvailable, Func<int> cudaCount)
    {
        var d = (device ?? "auto").Trim().ToLowerInvariant();
        if (d is "auto") return cudaAvailable ? new torch.Device(DeviceType.CUDA, 0) : torch.CPU;
        if (d is "cpu") return torch.CPU;
        if (d == "cuda" || d == "gpu" || d.StartsWith("cuda:", StringComparison.Ordinal))
        {
            int index = 0;
            if (d.StartsWith("cuda:", StringComparison.Ordinal) && (!int.TryParse(d.AsSpan(5), out index) || index < 0))
                throw new LightningException($"TrainerOptions.Device '{device}': expected 'cuda:N' with N a device index, e.g. 'cuda:0'.");
            if (!cudaAvailable)
                throw new LightningException(
                    $"TrainerOptions.Device is '{device}' but CUDA is not available in this process. The TorchSharp natives " +
                    "referenced here are CPU-only (libtorch-cpu-linux-x64); a CUDA run needs a CUDA build of LibTorch " +
                    "(TorchSharp-cuda-linux) and a GPU. Use Device = \"cpu\" or \"auto\".");
            int count = cudaCount();
            if (index >= count)
                throw new LightningException($"TrainerOptions.Device '{device}': this machine has {count} CUDA device(s), indexes 0 to {count - 1}.");
            return new torch.Device(DeviceType.CUDA, index);
        }
        throw new LightningException($"TrainerOptions.Device '{device}' is not a device: expected \"auto\", \"cpu\", \"cuda\" or \"cuda:N\".");
    }
}
