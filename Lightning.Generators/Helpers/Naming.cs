using System.Text;

namespace Lightning.Generators.Helpers;

/// <summary>Name conversions: C# member names to the record's PascalCase and to snake_case for JSON and command lines.</summary>
internal static class Naming
{
    /// <summary><c>learningRate</c> -> <c>LearningRate</c>.</summary>
    public static string Pascal(string name) =>
        name.Length == 0 || char.IsUpper(name[0]) ? name : char.ToUpperInvariant(name[0]) + name.Substring(1);

    /// <summary><c>LearningRate</c> or <c>learningRate</c> -> <c>learning_rate</c>; <c>HTTPPort</c> -> <c>http_port</c>; <c>Filters1</c> -> <c>filters1</c>.</summary>
    public static string Snake(string name)
    {
        var sb = new StringBuilder(name.Length + 4);
        for (int i = 0; i < name.Length; i++)
        {
            char c = name[i];
            if (char.IsUpper(c))
            {
                bool previousIsLowerOrDigit = i > 0 && (char.IsLower(name[i - 1]) || char.IsDigit(name[i - 1]));
                bool acronymEnds = i > 0 && char.IsUpper(name[i - 1]) && i + 1 < name.Length && char.IsLower(name[i + 1]);
                if ((previousIsLowerOrDigit || acronymEnds) && sb.Length > 0 && sb[sb.Length - 1] != '_') sb.Append('_');
                sb.Append(char.ToLowerInvariant(c));
            }
            else sb.Append(c);
        }
        return sb.ToString();
    }
}
