using TorchSharp;

namespace Lightning;

/// <summary>Seeding for repeatable runs, as Lightning's <c>seed_everything</c>.</summary>
public static class Seed
{
    /// <summary>Seeds TorchSharp's CPU (and, when present, CUDA) generators. Call it before building the model.</summary>
    public static void Everything(long seed)
    {
        torch.manual_seed(seed);
        if (torch.cuda.is_available()) torch.cuda.manual_seed_all(seed);
    }
}
