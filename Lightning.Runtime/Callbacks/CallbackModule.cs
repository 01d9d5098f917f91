namespace Lightning;

/// <summary>Used by generated callback hooks whose method takes a specific module class.</summary>
public static class CallbackModule
{
    /// <summary>
    /// <paramref name="module"/> as <typeparamref name="TModule"/>; a clear error naming <paramref name="handler"/> when
    /// the trainer runs another module.
    /// </summary>
    public static TModule As<TModule>(ILightningModule module, string handler) where TModule : class =>
        module as TModule ?? throw new LightningException(
            $"{handler} takes a {typeof(TModule).Name}, but the trainer is running a {module.ModuleTypeName}: " +
            "pass this callback only to fits of that module, or take ILightningModule.");
}
