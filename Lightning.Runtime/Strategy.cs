namespace Lightning;

/// <summary>How training is spread over devices and processes: Lightning's <c>strategy</c> flag (the ones Lightning for TorchSharp has).</summary>
public enum Strategy
{
    /// <summary><c>"auto"</c>: one process on one device (the default).</summary>
    Auto,
    /// <summary><c>"single_device"</c>: one process on one device, said explicitly.</summary>
    SingleDevice,
    /// <summary>
    /// <c>"ddp"</c>: data-parallel training over MPI, one process per device, launched with <c>mpirun -np N dotnet app.dll</c>
    /// (docs/distributed.md).
    /// </summary>
    Ddp,
}

public static partial class LightningSpelling
{
    // Lightning's registry names: SingleDeviceStrategy.strategy_name = "single_device" (src/lightning/pytorch/strategies/single_device.py),
    // DDPStrategy registers "ddp" (strategies/ddp.py); "auto" is the Trainer's default (trainer/connectors/accelerator_connector.py).
    private static readonly Spelling<Strategy> Strategies =
        new(new[] { (Strategy.Auto, "auto"), (Strategy.SingleDevice, "single_device"), (Strategy.Ddp, "ddp") });

    /// <summary>Lightning's spelling: <c>"auto"</c>, <c>"single_device"</c> or <c>"ddp"</c>.</summary>
    public static string ToLightningString(this Strategy strategy) => Strategies.Format(strategy);

    /// <summary>Reads Lightning's <c>"auto"</c>, <c>"single_device"</c> or <c>"ddp"</c>.</summary>
    public static bool TryParse(string? text, out Strategy strategy) => Strategies.TryParse(text, out strategy);
}
