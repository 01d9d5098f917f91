using System.Linq;
using Lightning.Generators.Helpers;
using Lightning.Generators.Kernel;
using Lightning.Generators.Hyperparameters.Model;

namespace Lightning.Generators.Hyperparameters;

/// <summary>
/// Writes the <c>HParams</c> record of a module (one property per <c>[Hyperparameter]</c>, with its default),
/// its JSON reading and writing, the module's <c>Hparams</c> property and <c>Create(HParams)</c>.
/// </summary>
internal static class HParamsEmitter
{
    private const string Json = "global::Lightning.HyperParameterJson";

    /// <param name="name">The module class's name.</param>
    /// <param name="fullName">Its fully qualified name (global::...).</param>
    /// <param name="hps">Its hyperparameters.</param>
    /// <param name="create">Whether Create and LoadFromCheckpoint are generated, stand-ins, or absent.</param>
    public static void Emit(SourceWriter w, string name, string fullName, EquatableArray<HyperparameterSpec> hps, CreateMode create)
    {
        var ctorParams = hps.Where(h => h.Source == HyperparameterSource.ConstructorParameter).ToList();

        w.Line("// ---- Hyperparameters ----");
        w.Line();
        foreach (var h in ctorParams)
            w.Line("private readonly " + h.TypeName + " _lightningHparam" + h.PropertyName + " = " + h.MemberName + ";");
        if (ctorParams.Count > 0) w.Line();

        w.Line("/// <summary>The hyperparameters this module was built with (saved in checkpoints, shown in the summary).</summary>");
        w.Line("public HParams Hparams => new HParams");
        w.Open();
        foreach (var h in hps)
            w.Line(h.PropertyName + " = " + (h.Source == HyperparameterSource.ConstructorParameter ? "_lightningHparam" + h.PropertyName
                : (h.IsStatic ? name + "." : "this.") + h.MemberName) + ",");
        w.Close(";");

        if (create == CreateMode.Stub)
        {
            // A hyperparameter has an error (its LTN diagnostic says which): the module cannot be built from HParams yet.
            w.Line();
            w.Line("/// <summary>Builds a " + name + " from <paramref name=\"hparams\"/> (not available while its hyperparameters have errors).</summary>");
            w.Line("public static " + name + " Create(HParams hparams) => " + Declarations.NotGenerated(name, "cannot be built from its hyperparameters") + ";");
            w.Line();
            w.Line("/// <summary>Rebuilds a " + name + " from a checkpoint (not available while its hyperparameters have errors).</summary>");
            w.Line("public static " + name + " LoadFromCheckpoint(string path, global::System.Func<HParams, HParams>? overrides = null) => "
                + Declarations.NotGenerated(name, "cannot be built from its hyperparameters") + ";");
        }
        if (create == CreateMode.Real)
        {
            w.Line();
            w.Line("/// <summary>");
            w.Line("/// Builds a " + name + " from <paramref name=\"hparams\"/> (as when reloading a checkpoint or parsing a command line).");
            w.Line("/// A value outside its declared range is a HyperParameterRangeException here, before any layer is built.");
            w.Line("/// </summary>");
            w.Line("public static " + name + " Create(HParams hparams)");
            w.Open();
            w.Line("hparams.Validate();");
            var args = string.Join(", ", ctorParams.Select(h => h.MemberName + ": hparams." + h.PropertyName));
            var props = hps.Where(h => h.Source == HyperparameterSource.Property).ToList();
            if (props.Count == 0)
                w.Line("return new " + name + "(" + args + ");");
            else
            {
                w.Line("return new " + name + "(" + args + ")");
                w.Open();
                foreach (var h in props) w.Line(h.MemberName + " = hparams." + h.PropertyName + ",");
                w.Close(";");
            }
            w.Close();

            w.Line();
            w.Line("/// <summary>");
            w.Line("/// Rebuilds a " + name + " from a checkpoint: its saved hyperparameters (changed by <paramref name=\"overrides\"/> when");
            w.Line("/// given), then its weights. Reading never executes code; a bad file is a CheckpointException naming it.");
            w.Line("/// </summary>");
            w.Line("public static " + name + " LoadFromCheckpoint(string path, global::System.Func<HParams, HParams>? overrides = null)");
            w.Open();
            w.Line("var checkpoint = global::Lightning.Checkpoints.Checkpoint.Open(path, " + Declarations.Quote(fullName.Replace("global::", "")) + ");");
            w.Line("// The saved hyperparameters, changed by the overrides; a value out of range is a CheckpointException naming it.");
            w.Line("var hparams = checkpoint.ReadHParams(HParams.FromJson, overrides);");
            w.Line("// Create, then RegisterComponents; anything thrown there (e.g. TorchSharp's error for a 0-sized layer) becomes a CheckpointException.");
            w.Line("var model = checkpoint.Build(hparams, static h =>");
            w.Open();
            w.Line("var built = Create(h);");
            w.Line("built.RegisterComponents();");
            w.Line("return built;");
            w.Close(");");
            w.Line("checkpoint.LoadWeights(model);");
            w.Line("return model;");
            w.Close();
        }

        w.Line();
        w.Line("/// <summary>The hyperparameters of <see cref=\"" + name + "\"/>, with their defaults.</summary>");
        w.Line("public sealed record HParams : global::Lightning.IHyperParameters");
        w.Open();
        foreach (var h in hps)
        {
            w.Line("/// <summary><c>" + h.JsonName + "</c>" + (h.Description is null ? "" : ": " + Xml(h.Description)) + "</summary>");
            // No default only in a module with LTN0008: default! keeps the record compiling until the user adds one.
            w.Line("public " + h.TypeName + " " + h.PropertyName + " { get; init; } = " + (h.DefaultValue ?? "default!") + ";");
            w.Line();
        }

        w.Line("/// <summary>Every hyperparameter with its JSON name, value and description.</summary>");
        w.Line("public global::System.Collections.Generic.IReadOnlyList<global::Lightning.HyperParameter> Values => new global::Lightning.HyperParameter[]");
        w.Open();
        foreach (var h in hps)
            w.Line("new(" + Declarations.Quote(h.JsonName) + ", " + h.PropertyName + ", " + (h.Description is null ? "null" : Declarations.Quote(h.Description)) + "),");
        w.Close(";");
        w.Line();

        w.Line("/// <summary>Writes the hyperparameters as one JSON object.</summary>");
        w.Line("public void WriteJson(global::System.Text.Json.Utf8JsonWriter writer)");
        w.Open();
        w.Line("writer.WriteStartObject();");
        foreach (var h in hps)
            w.Line(h.Kind == HyperparameterKind.Enum
                ? Json + ".WriteEnum(writer, " + Declarations.Quote(h.JsonName) + ", " + h.PropertyName + ");"
                : h.Kind == HyperparameterKind.Unsupported
                    ? Json + ".Write(writer, " + Declarations.Quote(h.JsonName) + ", global::System.Convert.ToString(" + h.PropertyName + ", global::System.Globalization.CultureInfo.InvariantCulture) ?? \"\");"
                    : Json + ".Write(writer, " + Declarations.Quote(h.JsonName) + ", " + h.PropertyName + ");");
        w.Line("writer.WriteEndObject();");
        w.Close();
        w.Line();

        w.Line("/// <summary>The hyperparameters as indented JSON.</summary>");
        w.Line("public string ToJson() => " + Json + ".ToJson(this);");
        w.Line();
        w.Line("/// <summary>The hyperparameters as a readable table.</summary>");
        w.Line("public string ToTable() => global::Lightning.HyperParameterTable.Format(this);");
        w.Line();

        var readable = hps.Where(h => h.Kind != HyperparameterKind.Unsupported).ToList();
        w.Line("/// <summary>Reads hyperparameters from a JSON object; missing names keep their defaults, unknown names and wrong types are errors naming <paramref name=\"source\"/>.</summary>");
        w.Line("public static HParams FromJson(string json, string source = \"hyperparameters of " + name + "\")");
        w.Open();
        w.Line("using var document = " + Json + ".ParseObject(json, source);");
        w.Line("var hparams = new HParams();");
        w.Line("foreach (var property in document.RootElement.EnumerateObject())");
        w.Open();
        w.Line("hparams = property.Name switch");
        w.Open();
        foreach (var h in readable)
            w.Line(Declarations.Quote(h.JsonName) + " => hparams with { " + h.PropertyName + " = " + Read(h) + " },");
        w.Line("_ => throw " + Json + ".Unknown(source, property.Name, " + Declarations.Quote(string.Join(", ", readable.Select(h => h.JsonName))) + "),");
        w.Close(";");
        w.Close();
        w.Line("hparams.Validate(source);");
        w.Line("return hparams;");
        w.Close();
        w.Line();

        EmitValidate(w, name, hps);
        w.Close();
    }

    /// <summary>
    /// <c>Validate(source)</c>: one runtime call per hyperparameter that declares a range; the runtime formats the message
    /// ("hyperparameters of Foo: 'batch_size' is 0; expected at least 1.").
    /// </summary>
    private static void EmitValidate(SourceWriter w, string name, EquatableArray<HyperparameterSpec> hps)
    {
        const string Range = "global::Lightning.HyperParameterRange";
        w.Line("/// <summary>");
        w.Line("/// Checks every hyperparameter that declares a range ([Hyperparameter(Min = ..., Max = ..., Choices = ...)]): the first value");
        w.Line("/// outside its range is a HyperParameterRangeException naming <paramref name=\"source\"/>, the hyperparameter, the value and the range.");
        w.Line("/// FromJson, Create, LoadFromCheckpoint and the command line call it.");
        w.Line("/// </summary>");
        w.Line("public void Validate(string source = " + Declarations.Quote("hyperparameters of " + name) + ")");
        w.Open();
        var bounded = hps.Where(h => h.Range is not null).ToList();
        if (bounded.Count == 0) w.Line("// No hyperparameter of " + name + " declares a range.");
        foreach (var h in bounded)
        {
            var r = h.Range!;
            var key = Declarations.Quote(h.JsonName);
            if (r.Choices.Count > 0)
                w.Line(Range + ".CheckChoice(source, " + key + ", " + h.PropertyName + ", " + string.Join(", ", r.Choices.Select(Declarations.Quote)) + ");");
            else
                w.Line(Range + ".Check(source, " + key + ", " + h.PropertyName
                    + (r.Min is null ? "" : ", min: " + r.Min) + (r.Max is null ? "" : ", max: " + r.Max) + ");");
        }
        w.Close();
    }

    private static string Read(HyperparameterSpec h) => h.Kind switch
    {
        HyperparameterKind.Boolean => Json + ".ReadBoolean(property, source)",
        HyperparameterKind.Int32 => Json + ".ReadInt32(property, source)",
        HyperparameterKind.Int64 => Json + ".ReadInt64(property, source)",
        HyperparameterKind.Single => Json + ".ReadSingle(property, source)",
        HyperparameterKind.Double => Json + ".ReadDouble(property, source)",
        HyperparameterKind.String => Json + ".ReadString(property, source)",
        _ => Json + ".ReadEnum<" + h.TypeName + ">(property, source)",
    };

    private static string Xml(string text) => text.Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;");
}
