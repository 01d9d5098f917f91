using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Lightning.Generators.Kernel;

/// <summary>
/// What counts as a module's <c>Log</c> call: <c>Log(...)</c> or <c>this.Log(...)</c> written in the module's own
/// declaration. Decided from syntax, so a module whose members could not be generated still has its keys seen (the
/// generator's metric slots, LTN0010, LTN0011 and LTN0013 all use this one rule).
/// </summary>
internal static class LogCalls
{
    public static bool IsLogCall(InvocationExpressionSyntax invocation) => invocation.Expression switch
    {
        IdentifierNameSyntax id => id.Identifier.ValueText == "Log",
        MemberAccessExpressionSyntax { Expression: ThisExpressionSyntax, Name.Identifier.ValueText: "Log" } => true,
        _ => false,
    };

    /// <summary>The key expression (the first argument) of a Log call, or null.</summary>
    public static ExpressionSyntax? KeyExpression(InvocationExpressionSyntax invocation) =>
        invocation.ArgumentList.Arguments.Count == 0 ? null : invocation.ArgumentList.Arguments[0].Expression;

    /// <summary>The key of a Log call when it is a constant string, else null.</summary>
    public static string? ConstantKey(InvocationExpressionSyntax invocation, SemanticModel? model, CancellationToken ct)
    {
        var arg = KeyExpression(invocation);
        if (arg is LiteralExpressionSyntax literal && literal.IsKind(SyntaxKind.StringLiteralExpression)) return literal.Token.ValueText;
        return arg is not null && model?.GetConstantValue(arg, ct) is { HasValue: true, Value: string s } ? s : null;
    }
}
