using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Lightning.Generators.Kernel;
using Lightning.Generators.Helpers;
using Lightning.Generators.Kernel.Model;
using Microsoft.CodeAnalysis;

namespace Lightning.Generators.Kernel;

/// <summary>
/// Which methods of a [Callback] or [LightningModule] class the generated <c>ICallback</c> calls, and why the others
/// cannot be called: the hook and handler rules (LTN0015, LTN0016) in one place. The generators call it while parsing,
/// so a method is wired exactly when it draws no diagnostic.
/// </summary>
internal static class HookRules
{
    /// <summary>
    /// The calls the class's hooks make (in hook order, then declaration order); every method that looks like a hook
    /// or handler but cannot be called adds its diagnostic to <paramref name="diagnostics"/>.
    /// </summary>
    public static EquatableArray<HookBinding> Bindings(INamedTypeSymbol type, KnownSymbols known, DiagnosticList diagnostics, CancellationToken ct)
    {
        var bindings = new List<HookBinding>();
        foreach (var method in type.GetMembers().OfType<IMethodSymbol>())
        {
            ct.ThrowIfCancellationRequested();
            if (method.MethodKind != MethodKind.Ordinary || method.IsImplicitlyDeclared) continue;
            var handlers = KnownSymbols.Attributes(method, known.CallbackAttribute).ToList();
            if (handlers.Count > 0)
            {
                foreach (var attribute in handlers)
                    if (Handler(method, attribute, type, known, inCallbackOrModule: true, diagnostics, ct) is HookBinding binding) bindings.Add(binding);
            }
            else if (HookCatalog.Find(method.Name) is Hook hook)
            {
                if (Bind(method, hook, type, known, "the hook " + hook.Name, diagnostics) is { } args)
                    bindings.Add(new HookBinding(hook.Name, method.Name, args, null, null, 0, 0));
            }
        }
        return bindings.Select((b, i) => (b, i)).OrderBy(x => HookCatalog.Order(x.b.Hook)).ThenBy(x => x.i).Select(x => x.b).ToEquatableArray();
    }

    /// <summary>
    /// The diagnostics of <c>[Callback(event)]</c> handlers on a method of a class that is neither [Callback] nor
    /// [LightningModule] (their event is checked first, then the class: the handler would never be called).
    /// </summary>
    public static void CheckStrayHandlers(IMethodSymbol method, KnownSymbols known, DiagnosticList diagnostics, CancellationToken ct)
    {
        foreach (var attribute in KnownSymbols.Attributes(method, known.CallbackAttribute))
            Handler(method, attribute, method.ContainingType, known, inCallbackOrModule: false, diagnostics, ct);
    }

    /// <summary>One <c>[Callback(event)]</c> attribute: its binding, or null with its diagnostic (LTN0016 for the attribute, LTN0015 for the signature).</summary>
    private static HookBinding? Handler(IMethodSymbol method, AttributeData attribute, INamedTypeSymbol self, KnownSymbols known,
        bool inCallbackOrModule, DiagnosticList diagnostics, CancellationToken ct)
    {
        var location = LocationInfo.From(attribute.ApplicationSyntaxReference?.GetSyntax(ct)) ?? LocationInfo.From(method);
        HookBinding? Misuse(string what)
        {
            diagnostics.Add(DiagnosticDescriptors.CallbackAttributeMisuse, location, method.Name, what);
            return null;
        }

        if (attribute.ConstructorArguments.Length != 1 || attribute.ConstructorArguments[0].Value is not int value)
            return Misuse("names no event: on a method, write [Callback(TrainerEvent.EpochCompleted)] (or another TrainerEvent)");
        var evt = EventNamed(attribute.ConstructorArguments[0], known) is string name ? HookCatalog.FindEvent(name) : null;
        if (evt is null)
            return Misuse($"names the event {value}, which is not a TrainerEvent ({string.Join(", ", HookCatalog.Events.Select(e => e.Name))})");
        if (!inCallbackOrModule)
            return Misuse("is in a class that is neither [Callback] nor [LightningModule], so the handler is never called");
        int every = 0, once = 0;
        foreach (var arg in attribute.NamedArguments)
        {
            if (arg.Key == "Every" && arg.Value.Value is int e) every = e;
            if (arg.Key == "Once" && arg.Value.Value is int o) once = o;
        }
        if (every < 0 || once < 0)
            return Misuse($"has {(every < 0 ? "Every = " + every : "Once = " + once)}; filters count events from 1, so it must be positive");
        if (every > 0 && once > 0)
            return Misuse("sets both Every and Once; use one filter per [Callback] attribute (add a second attribute for another filter)");
        var hook = HookCatalog.Find(evt.Hook)!;
        return Bind(method, hook, self, known, "TrainerEvent." + evt.Name, diagnostics) is { } args
            ? new HookBinding(hook.Name, method.Name, args, evt.Name, evt.Count, every, once)
            : null;
    }

    /// <summary>The <c>TrainerEvent</c> member a constant names (by the enum's own fields, not by position), or null.</summary>
    private static string? EventNamed(TypedConstant constant, KnownSymbols known)
    {
        var enumType = constant.Type as INamedTypeSymbol ?? known.TrainerEvent;
        if (enumType is null || !SymbolEqualityComparer.Default.Equals(enumType, known.TrainerEvent)) return null;
        foreach (var field in enumType.GetMembers().OfType<IFieldSymbol>())
            if (field.HasConstantValue && Equals(field.ConstantValue, constant.Value)) return field.Name;
        return null;
    }

    /// <summary>The arguments to pass to <paramref name="method"/> from <paramref name="hook"/>, or null (and LTN0015) when the hook cannot call it.</summary>
    private static EquatableArray<BindingArg>? Bind(IMethodSymbol method, Hook hook, INamedTypeSymbol self, KnownSymbols known, string what, DiagnosticList diagnostics)
    {
        string? problem = null;
        var args = new List<BindingArg>();
        if (method.IsStatic) problem = "it is static; hooks are instance methods";
        else if (method.IsGenericMethod) problem = "it is generic";
        else if (!method.ReturnsVoid) problem = $"it returns '{method.ReturnType.ToDisplayString()}'; hooks return void";
        else
        {
            foreach (var p in method.Parameters)
            {
                if (p.RefKind != RefKind.None) { problem = $"parameter '{p.Name}' is passed by reference"; break; }
                if (ArgFor(p.Type, known, out bool moduleClass) is not HookArg arg) { problem = $"no hook passes a '{p.Type.ToDisplayString()}' (parameter '{p.Name}')"; break; }
                if (!hook.Args.Contains(arg)) { problem = $"{hook.Name} does not pass {Describe(arg)} (parameter '{p.Name}')"; break; }
                if (args.Any(a => a.Arg == arg)) { problem = $"{Describe(arg)} is taken twice (parameter '{p.Name}')"; break; }
                string? cast = null;
                if (moduleClass) cast = SymbolEqualityComparer.Default.Equals(p.Type.OriginalDefinition, self) ? "this" : p.Type.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat);
                args.Add(new BindingArg(arg, cast, p.NullableAnnotation == NullableAnnotation.Annotated));
            }
        }
        if (problem is null) return args.ToEquatableArray();
        var passes = string.Join(", ", hook.Args.Select(a => HookCatalog.ParameterType(a).Replace("global::", "") + " " + HookCatalog.ParameterName(a)));
        diagnostics.Add(DiagnosticDescriptors.HookSignature, LocationInfo.From(method), method.Name, what,
            problem + $"; it passes ({passes}), any of them by type in any order");
        return null;
    }

    /// <summary>
    /// Which hook argument a method parameter of type <paramref name="type"/> takes, or null when no hook passes it.
    /// <paramref name="moduleClass"/> is set when the parameter is a specific module class (cast at run time).
    /// </summary>
    public static HookArg? ArgFor(ITypeSymbol type, KnownSymbols known, out bool moduleClass)
    {
        moduleClass = false;
        if (KnownSymbols.Same(type, known.Trainer)) return HookArg.Trainer;
        if (KnownSymbols.Same(type, known.ModuleInterface)) return HookArg.Module;
        if (type.SpecialType == SpecialType.System_Int64) return HookArg.BatchIdx;
        if (KnownSymbols.Same(type, known.Tensor)) return HookArg.Loss;
        if (KnownSymbols.Same(type, known.Optimizer)) return HookArg.Optimizer;
        if (KnownSymbols.Same(type, known.Exception)) return HookArg.Exception;
        // A module class: it implements ILightningModule, or is a [LightningModule] whose generated part is not visible here.
        if (KnownSymbols.Implements(type, known.ModuleInterface) || known.IsModule(type))
        {
            moduleClass = true;
            return HookArg.Module;
        }
        return null;
    }

    private static string Describe(HookArg arg) => arg switch
    {
        HookArg.Trainer => "the Trainer",
        HookArg.Module => "the module",
        HookArg.BatchIdx => "a batch index (long)",
        HookArg.Loss => "the loss (Tensor)",
        HookArg.Optimizer => "the optimizer",
        _ => "an exception",
    };
}
