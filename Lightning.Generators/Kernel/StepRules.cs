using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;

namespace Lightning.Generators.Kernel;

/// <summary>How a step takes its batch index: not at all, as <c>long</c> (the trainer's type) or as <c>int</c> (converted, checked).</summary>
internal enum BatchIndexKind { None, Long, Int }

/// <summary>
/// The rules for step methods ([TrainingStep], [ValidationStep], [TestStep], [PredictStep]) and [ConfigureOptimizers]:
/// one place that says what the generated loop can call (LTN0004, LTN0006). The module parser reports what they find
/// and wires a step exactly when it has no problem.
/// </summary>
internal static class StepRules
{
    /// <summary>
    /// The batch type a step's declaration names, when it can stand for the module's batch type: a step with one or two
    /// parameters whose first is a concrete type (not the method's own type parameter, not a type that does not bind)
    /// that holds a tensor. Otherwise null: that step's own LTN0006 says why, and the other steps are not compared with it.
    /// </summary>
    public static ITypeSymbol? DeclaredBatchType(IMethodSymbol method, KnownSymbols known) =>
        method.Parameters.Length is 1 or 2 && method.Parameters[0].Type is { TypeKind: not (TypeKind.TypeParameter or TypeKind.Error) } type
        && TypeShapes.ShapeOf(type, known).HasTensors
            ? type : null;

    /// <summary>How <paramref name="method"/> takes its batch index (for a step whose signature has no problem).</summary>
    public static BatchIndexKind BatchIndexOf(IMethodSymbol method) =>
        method.Parameters.Length < 2 ? BatchIndexKind.None
        : method.Parameters[1].Type.SpecialType == SpecialType.System_Int32 ? BatchIndexKind.Int : BatchIndexKind.Long;

    /// <summary>
    /// Every problem with the signature of a step method, each with where to report it; empty when the generated loop
    /// can call it. <paramref name="trainingBatch"/> is the [TrainingStep]'s batch type when that step's own signature
    /// names one (other steps must take the same); null skips that comparison, so a broken training step does not make
    /// the other steps look wrong too.
    /// </summary>
    public static List<(Location Location, string Problem)> Problems(IMethodSymbol method, StepKind kind, KnownSymbols known, ITypeSymbol? trainingBatch)
    {
        var problems = new List<(Location, string)>();
        if (method.IsStatic) { problems.Add((method.Locations[0], "is static; steps are instance methods of the module")); return problems; }
        if (method.IsGenericMethod) { problems.Add((method.Locations[0], "is generic; the batch type must be a concrete type")); return problems; }
        if (method.Parameters.Length is < 1 or > 2)
        {
            problems.Add((method.Locations[0], $"takes {method.Parameters.Length} parameters; expected (TBatch batch) or (TBatch batch, long batchIdx)"));
            return problems;
        }
        if (method.Parameters.Length == 2 && method.Parameters[1].Type.TypeKind != TypeKind.Error
            && method.Parameters[1].Type.SpecialType is not (SpecialType.System_Int64 or SpecialType.System_Int32))
            problems.Add((Declarations.ParameterTypeLocation(method, 1),
                $"takes a batch index of type '{method.Parameters[1].Type.ToDisplayString()}'; expected long (or int)"));
        if (method.Parameters.Any(p => p.RefKind != RefKind.None))
            problems.Add((method.Locations[0], "has a ref, out or in parameter; steps take their arguments by value"));
        var batch = method.Parameters[0].Type;
        if (batch.TypeKind != TypeKind.Error)
        {
            if (!TypeShapes.ShapeOf(batch, known).HasTensors)
                problems.Add((Declarations.ParameterTypeLocation(method, 0),
                    $"takes a batch of type '{batch.ToDisplayString()}', which holds no tensor the trainer can move to the device (use a Tensor, a value tuple, a record with Tensor properties, or Tensor[])"));
            else if (kind != StepKind.Training && trainingBatch is not null && !KnownSymbols.Same(batch, trainingBatch))
                problems.Add((Declarations.ParameterTypeLocation(method, 0),
                    $"takes a batch of type '{batch.ToDisplayString()}', but the [TrainingStep] takes '{trainingBatch.ToDisplayString()}': every step must take the same batch type"));
        }
        if (kind == StepKind.Training && method.ReturnType.TypeKind != TypeKind.Error && !known.IsTensor(method.ReturnType))
            problems.Add((Declarations.ReturnTypeLocation(method),
                $"returns '{method.ReturnType.ToDisplayString()}'; a training step returns the loss as a Tensor (or null to skip the batch)"));
        if (kind == StepKind.Predict && method.ReturnsVoid)
            problems.Add((Declarations.ReturnTypeLocation(method), "returns void; a prediction step returns its prediction"));
        if (kind == StepKind.Predict && method.ReturnsByRef)
            problems.Add((Declarations.ReturnTypeLocation(method), "returns by reference; a prediction step returns its prediction by value"));
        return problems;
    }

    /// <summary>The problem with a [ConfigureOptimizers] method and where it is, or null when the trainer can call it.</summary>
    public static (Location Location, string Problem)? OptimizerProblem(IMethodSymbol method, KnownSymbols known)
    {
        if (method.Parameters.Length != 0)
            return (method.Locations[0], $"takes {method.Parameters.Length} parameter(s); expected no parameters");
        if (method.IsStatic) return (method.Locations[0], "is static; expected an instance method of the module");
        if (method.IsGenericMethod) return (method.Locations[0], "is generic; expected a method without type parameters");
        if (method.ReturnType.TypeKind == TypeKind.Error) return null;   // the compiler reports the type
        if (method.ReturnsVoid || method.ReturnsByRef || !known.IsOptimization(method.ReturnType))
            return (Declarations.ReturnTypeLocation(method),
                $"returns '{method.ReturnType.ToDisplayString()}'; expected torch.optim.Optimizer (or a subclass) or Lightning.Optimization");
        return null;
    }

    /// <summary>True for a method named as Lightning's training step (<c>TrainingStep</c>, <c>training_step</c>) that lacks its attribute.</summary>
    public static bool LooksLikeTrainingStep(IMethodSymbol method) =>
        method.MethodKind == MethodKind.Ordinary && method.Name.Replace("_", "").Equals("trainingstep", System.StringComparison.OrdinalIgnoreCase);
}
