using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Lightning.Generators.Callbacks.Model;
using Lightning.Generators.Helpers;
using Lightning.Generators.Modules;
using Lightning.Generators.Modules.Model;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Lightning.Generators.Callbacks;

/// <summary>
/// Finds the hook methods (named as a Lightning hook) and <c>[Callback(event)]</c> handlers of a class. Methods whose
/// signature no hook can call are skipped here; the callback analyzer reports them.
/// </summary>
internal static class CallbackParser
{
    private static readonly SymbolDisplayFormat TypeFormat = SymbolDisplayFormat.FullyQualifiedFormat;

    /// <summary>The <c>[Callback]</c> class in <paramref name="context"/>, or null when the generator cannot complete it (not partial, generic).</summary>
    public static CallbackClassSpec? ParseClass(GeneratorAttributeSyntaxContext context, CancellationToken ct)
    {
        if (context.TargetSymbol is not INamedTypeSymbol type || context.TargetNode is not ClassDeclarationSyntax declaration) return null;
        if (!ModuleParser.IsPartialChain(declaration) || type.IsGenericType) return null;
        // A [LightningModule] that is also marked [Callback] gets its hooks from the module generator.
        if (type.GetAttributes().Any(a => a.AttributeClass?.ToDisplayString() == Names.LightningModuleAttribute)) return null;
        ct.ThrowIfCancellationRequested();

        var (ns, containing, metadataName) = ModuleParser.Place(type);
        return new CallbackClassSpec(
            HintName: (ns.Length > 0 ? ns + "." : "") + metadataName + ".Callback.g.cs",
            Namespace: ns,
            ContainingTypes: containing,
            Name: type.Name,
            Keyword: ModuleParser.Keyword(type),
            Bindings: Bindings(type, ct));
    }

    /// <summary>Every call the class's hooks make, in hook order, then declaration order.</summary>
    public static EquatableArray<HookBinding> Bindings(INamedTypeSymbol type, CancellationToken ct)
    {
        var bindings = new List<HookBinding>();
        foreach (var method in type.GetMembers().OfType<IMethodSymbol>())
        {
            ct.ThrowIfCancellationRequested();
            if (method.MethodKind != MethodKind.Ordinary || method.IsImplicitlyDeclared) continue;
            var handlers = method.GetAttributes().Where(a => a.AttributeClass?.ToDisplayString() == HookCatalog.CallbackAttribute).ToList();
            if (handlers.Count > 0)
            {
                foreach (var attribute in handlers)
                    if (Handler(method, attribute, type) is HookBinding binding) bindings.Add(binding);
            }
            else if (HookCatalog.Find(method.Name) is Hook hook && Bind(method, hook, type) is { } args)
            {
                bindings.Add(new HookBinding(hook.Name, method.Name, args, null, null, 0, 0));
            }
        }
        var order = HookCatalog.Hooks.Select(h => h.Name).ToList();
        return bindings.Select((b, i) => (b, i)).OrderBy(x => order.IndexOf(x.b.Hook)).ThenBy(x => x.i).Select(x => x.b).ToEquatableArray();
    }

    private static HookBinding? Handler(IMethodSymbol method, AttributeData attribute, INamedTypeSymbol self)
    {
        if (attribute.ConstructorArguments.Length != 1 || attribute.ConstructorArguments[0].Value is not int value) return null;
        if (value < 0 || value >= HookCatalog.Events.Count) return null;
        var (evt, hookName, count) = HookCatalog.Events[value];
        int every = 0, once = 0;
        foreach (var arg in attribute.NamedArguments)
        {
            if (arg.Key == "Every" && arg.Value.Value is int e) every = e;
            if (arg.Key == "Once" && arg.Value.Value is int o) once = o;
        }
        if (every < 0 || once < 0 || (every > 0 && once > 0)) return null;
        var hook = HookCatalog.Find(hookName)!;
        return Bind(method, hook, self) is { } args ? new HookBinding(hook.Name, method.Name, args, evt, count, every, once) : null;
    }

    /// <summary>The arguments to pass to <paramref name="method"/> from <paramref name="hook"/>, or null when the hook cannot call it.</summary>
    private static EquatableArray<BindingArg>? Bind(IMethodSymbol method, Hook hook, INamedTypeSymbol self)
    {
        if (method.IsStatic || method.IsGenericMethod || !method.ReturnsVoid) return null;
        var args = new List<BindingArg>();
        foreach (var p in method.Parameters)
        {
            if (p.RefKind != RefKind.None || HookCatalog.ArgFor(p.Type, out bool moduleClass) is not HookArg arg) return null;
            if (!hook.Args.Contains(arg) || args.Any(a => a.Arg == arg)) return null;
            string? cast = null;
            if (moduleClass) cast = SymbolEqualityComparer.Default.Equals(p.Type.OriginalDefinition, self) ? "this" : p.Type.ToDisplayString(TypeFormat);
            args.Add(new BindingArg(arg, cast, p.NullableAnnotation == NullableAnnotation.Annotated));
        }
        return args.ToEquatableArray();
    }
}
