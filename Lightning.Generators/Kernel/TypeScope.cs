using Lightning.Generators.Helpers;
using Lightning.Generators.Kernel.Model;

namespace Lightning.Generators.Kernel;

/// <summary>Opens and closes the namespace and the partial containing types a generated type is written in.</summary>
internal static class TypeScope
{
    public static void Open(SourceWriter w, string ns, EquatableArray<ContainingTypeSpec> containing)
    {
        if (ns.Length > 0)
        {
            w.Line("namespace " + ns);
            w.Open();
        }
        foreach (var c in containing)
        {
            w.Line("partial " + c.Keyword + " " + c.Name);
            w.Open();
        }
    }

    public static void Close(SourceWriter w, string ns, EquatableArray<ContainingTypeSpec> containing)
    {
        for (int i = 0; i < containing.Count; i++) w.Close();
        if (ns.Length > 0) w.Close();
    }
}
