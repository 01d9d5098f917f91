using System;
using System.Linq;
using System.CommandLine;
using System.Text.Json;

namespace Lightning.Cli;

/// <summary>
/// One setting of the command line, for a record <typeparamref name="TTarget"/> (a module's HParams, or
/// <see cref="TrainerOptions"/>): its option (<c>--max-epochs</c>), its JSON name in config files (<c>max_epochs</c>),
/// and how to read and set it.
/// </summary>
public abstract class CliOption<TTarget>
{
    private protected CliOption(string jsonName, string? description)
    {
        JsonName = jsonName;
        Description = description;
    }

    /// <summary>The name in config files (snake_case).</summary>
    public string JsonName { get; }

    /// <summary>The option's name, <c>--</c> and the JSON name in kebab-case.</summary>
    public string OptionName => "--" + JsonName.Replace('_', '-');

    /// <summary>The help text.</summary>
    public string? Description { get; }

    internal abstract Option Option { get; }

    /// <summary>The value from the command line when it was given there.</summary>
    internal abstract TTarget ApplyCommandLine(TTarget target, ParseResult result);

    /// <summary>A value from a config file.</summary>
    internal abstract TTarget ApplyJson(TTarget target, JsonElement value, string file);

    /// <summary>The current value, as written to a config file.</summary>
    internal abstract void WriteJson(TTarget target, Utf8JsonWriter writer);

    /// <summary>A setting of type <typeparamref name="T"/> (bool, int, long, float, double, string, an enum, nullable forms, BatchLimit, TimeSpan).</summary>
    public static CliOption<TTarget> Create<T>(string jsonName, string? description, Func<TTarget, T> get, Func<TTarget, T, TTarget> set) =>
        new Typed<T>(jsonName, description, get, set);

    private sealed class Typed<T> : CliOption<TTarget>
    {
        private readonly Func<TTarget, T> _get;
        private readonly Func<TTarget, T, TTarget> _set;
        private readonly Option<T> _option;

        public Typed(string jsonName, string? description, Func<TTarget, T> get, Func<TTarget, T, TTarget> set) : base(jsonName, description)
        {
            _get = get;
            _set = set;
            _option = new Option<T>(OptionName)
            {
                Description = description,
                Recursive = true,
                CustomParser = result =>
                {
                    var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
                    if (CliValues.TryParse<T>(text, out var value, out var expected)) return value;
                    result.AddError($"{OptionName}: '{text}' is not valid; expected {expected}.");
                    return default!;
                },
            };
            // An enum shows the spellings it reads (Lightning's: "32-true", not Float32) in --help and completions.
            if (CliValues.EnumNames(typeof(T)) is { } names)
            {
                _option.HelpName = string.Join("|", names);
                _option.CompletionSources.Clear();
                _option.CompletionSources.Add(names.ToArray());
            }
        }

        internal override Option Option => _option;

        internal override void ShowDefault(TTarget defaults)
        {
            var value = _get(defaults);
            _option.DefaultValueFactory = _ => value;
            // --help writes a default with ToString(), which for an enum is its C# name: show its spelling instead.
            if (value is Enum)
            {
                _option.DefaultValueFactory = null;
                _option.Description = $"{Description} [default: {CliValues.Format(value)}]";
            }
        }

        internal override TTarget ApplyCommandLine(TTarget target, ParseResult result)
        {
            var given = result.GetResult(_option);
            return given is null || given.Implicit ? target : _set(target, result.GetValue(_option)!);
        }

        internal override TTarget ApplyJson(TTarget target, JsonElement value, string file)
        {
            var text = value.ValueKind switch
            {
                JsonValueKind.String => value.GetString()!,
                JsonValueKind.Null => "null",
                JsonValueKind.True => "true",
                JsonValueKind.False => "false",
                _ => value.GetRawText(),
            };
            // One rule for config files: a number or a boolean is written as one, not as a string (as hyperparameters).
            if (value.ValueKind == JsonValueKind.String && IsNumberOrBoolean)
                throw new CliUsageException($"{file}: '{JsonName}' is the string {value.GetRawText()}; expected {Expected} (without quotes).");
            if (!CliValues.TryParse<T>(text, out var parsed, out var expected))
                throw new CliUsageException($"{file}: '{JsonName}' is {value.GetRawText()}; expected {expected}.");
            return _set(target, parsed);
        }

        private static bool IsNumberOrBoolean =>
            (Nullable.GetUnderlyingType(typeof(T)) ?? typeof(T)) is var t && (t == typeof(int) || t == typeof(long) || t == typeof(float) || t == typeof(double) || t == typeof(bool));

        private static string Expected => CliValues.Describe<T>();

        internal override void WriteJson(TTarget target, Utf8JsonWriter writer)
        {
            object? v = _get(target);
            switch (v)
            {
                case null: writer.WriteNull(JsonName); break;
                case bool b: writer.WriteBoolean(JsonName, b); break;
                case int i: writer.WriteNumber(JsonName, i); break;
                case long l: writer.WriteNumber(JsonName, l); break;
                case float f: writer.WriteNumber(JsonName, f); break;
                case double d: writer.WriteNumber(JsonName, d); break;
                default: writer.WriteString(JsonName, CliValues.Format(v)); break;
            }
        }
    }

    /// <summary>Shows the value of <paramref name="defaults"/> as the option's default in --help.</summary>
    internal abstract void ShowDefault(TTarget defaults);
}
