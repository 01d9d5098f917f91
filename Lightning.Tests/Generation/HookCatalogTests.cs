using System;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Text.RegularExpressions;
using Lightning.Generators.Kernel;
using TorchSharp;
using Xunit;

namespace Lightning.Tests.Generation;

/// <summary>
/// The hook list is written once, in the generator's <see cref="HookCatalog"/>: these tests fail when the runtime's
/// <c>ICallback</c>, <c>Callback</c>, <c>CallbackList</c> or <c>TrainerEvent</c>, or docs/hooks.md, say something else.
/// </summary>
public class HookCatalogTests
{
    private static string RepoFile(string path) => File.ReadAllText(Path.Combine(Path.GetDirectoryName(GeneratorHarness.ProjectDirectory())!, path));

    private static readonly MethodInfo[] InterfaceHooks = typeof(ICallback).GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.DeclaredOnly)
        .Where(m => m.Name.StartsWith("On", StringComparison.Ordinal) && !m.IsSpecialName).ToArray();

    private static Type ClrType(HookArg arg) => arg switch
    {
        HookArg.Trainer => typeof(Trainer),
        HookArg.Module => typeof(ILightningModule),
        HookArg.BatchIdx => typeof(long),
        HookArg.Loss => typeof(torch.Tensor),
        HookArg.Optimizer => typeof(torch.optim.Optimizer),
        _ => typeof(Exception),
    };

    [Fact]
    public void TheCatalogIsTheInterfacesHooksInOrderWithTheirParameters()
    {
        Assert.Equal(InterfaceHooks.Select(m => m.Name), HookCatalog.Hooks.Select(h => h.Name));
        foreach (var (method, hook) in InterfaceHooks.Zip(HookCatalog.Hooks))
        {
            var parameters = method.GetParameters();
            Assert.Equal(parameters.Select(p => p.ParameterType), hook.Args.Select(ClrType));
            Assert.Equal(parameters.Select(p => p.Name), hook.Args.Select(HookCatalog.ParameterName));
            Assert.Equal(typeof(void), method.ReturnType);
        }
    }

    [Fact]
    public void TheGeneratedParameterTypesAreTheInterfaces()
    {
        foreach (var arg in Enum.GetValues<HookArg>())
            Assert.Equal(ClrType(arg).FullName!.Replace('+', '.').Replace("System.Int64", "long"),
                HookCatalog.ParameterType(arg).Replace("global::", "").TrimEnd('?'));
    }

    [Fact]
    public void CallbackOverridesEveryHook()
    {
        var overridable = typeof(Callback).GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.DeclaredOnly)
            .Where(m => m.IsVirtual && m.Name.StartsWith("On", StringComparison.Ordinal)).Select(m => m.Name).ToHashSet();
        None("hooks Callback does not override", HookCatalog.Hooks.Select(h => h.Name).Where(h => !overridable.Contains(h)));
    }

    [Fact]
    public void TheProfilersHookNamesAreTheCatalogsHooksInLightningsSpelling()
    {
        // CallbackList times each hook under the profiler and names it as Lightning does (on_train_batch_start): every hook
        // but OnException (not profiled), spelled from the catalogue's name.
        Assert.Equal(HookCatalog.Hooks.Select(h => h.Name).Where(h => h != "OnException").Order(),
            Enum.GetNames<Lightning.Callbacks.CallbackList.Hook>().Select(h => "On" + h).Order());
        Assert.Contains("on_before_optimizer_step", Lightning.Callbacks.CallbackList.HookNames);
        Assert.Contains("on_validation_batch_end", Lightning.Callbacks.CallbackList.HookNames);
    }

    [Fact]
    public void CallbackListCallsEveryHook()
    {
        var source = RepoFile("Lightning.Runtime/Callbacks/CallbackList.cs");
        None("hooks CallbackList never calls", HookCatalog.Hooks.Select(h => h.Name).Where(h => !source.Contains("c." + h + "(", StringComparison.Ordinal)));
    }

    [Fact]
    public void HooksDocNamesEveryHookAndNoOther()
    {
        var doc = RepoFile("docs/hooks.md");
        var names = HookCatalog.Hooks.Select(h => h.Name).ToHashSet();
        None("hooks docs/hooks.md does not name", names.Where(h => !Regex.IsMatch(doc, @"\b" + h + @"\b")));
        var mentioned = Regex.Matches(doc, @"\bOn[A-Z][A-Za-z]+\b").Select(m => m.Value).Distinct();
        None("names in docs/hooks.md that are not hooks", mentioned.Where(m => !names.Contains(m)));
    }

    private static void None(string what, System.Collections.Generic.IEnumerable<string> items)
    {
        var list = items.ToList();
        Assert.True(list.Count == 0, what + ": " + string.Join(", ", list));
    }

    [Fact]
    public void TheEventsAreTrainerEventsMembersAndRunInCatalogHooks()
    {
        Assert.Equal(Enum.GetNames<TrainerEvent>(), HookCatalog.Events.Select(e => e.Name));
        Assert.All(HookCatalog.Events, e => Assert.NotNull(HookCatalog.Find(e.Hook)));
    }
}
