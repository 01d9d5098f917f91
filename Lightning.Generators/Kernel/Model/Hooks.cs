using Lightning.Generators.Helpers;

namespace Lightning.Generators.Kernel.Model;

/// <summary>
/// An argument passed to a hook method: which hook argument, the module class to cast to (null: none, "this": the
/// module itself), and whether the parameter accepts null (a loss declared <c>Tensor?</c>).
/// </summary>
internal sealed record BindingArg(HookArg Arg, string? ModuleClass, bool AcceptsNull);

/// <summary>
/// One call the generated <c>ICallback</c> hook makes: a method named as the hook, or a <c>[Callback(event)]</c> handler
/// with its Every/Once filter on the event's count.
/// </summary>
internal sealed record HookBinding(
    string Hook,
    string MethodName,
    EquatableArray<BindingArg> Args,
    string? Event,
    string? Count,
    int Every,
    int Once);
