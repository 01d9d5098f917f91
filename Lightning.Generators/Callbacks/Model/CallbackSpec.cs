using Lightning.Generators.Helpers;
using Lightning.Generators.Kernel;
using Lightning.Generators.Kernel.Model;

namespace Lightning.Generators.Callbacks.Model;

/// <summary>What the parser found in one <c>[Callback]</c> class: the spec to emit (null when nothing can be) and its diagnostics.</summary>
internal sealed record CallbackParse(CallbackClassSpec? Spec, EquatableArray<DiagnosticInfo> Diagnostics);

/// <summary>A <c>[Callback]</c> class: where it is declared and the calls of each hook.</summary>
internal sealed record CallbackClassSpec(
    string HintName,
    string Namespace,
    EquatableArray<ContainingTypeSpec> ContainingTypes,
    string Name,
    string Keyword,
    EquatableArray<HookBinding> Bindings);
