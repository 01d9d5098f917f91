using Lightning.Generators.Helpers;

namespace Lightning.Generators.Kernel.Model;

/// <summary>A type a generated type is nested in: its keyword (class, struct, record...) and name.</summary>
internal sealed record ContainingTypeSpec(string Keyword, string Name);

/// <summary>The kinds of value the generated device-transfer code knows how to walk.</summary>
internal enum ShapeKind
{
    /// <summary>A <c>torch.Tensor</c>.</summary>
    Tensor,
    /// <summary>A value tuple; members are its elements.</summary>
    Tuple,
    /// <summary>A record (class or struct); members are its tensor-bearing properties, rebuilt with <c>with</c>.</summary>
    Record,
    /// <summary>An array of tensors.</summary>
    TensorArray,
    /// <summary>Anything else: passed through unchanged.</summary>
    Other,
}

/// <summary>The structure of a batch (or prediction) type, as far as tensors are concerned.</summary>
internal sealed record TypeShape(ShapeKind Kind, string TypeName, EquatableArray<ShapeMember> Members)
{
    /// <summary>True when the value holds at least one tensor.</summary>
    public bool HasTensors => Kind is ShapeKind.Tensor or ShapeKind.TensorArray || Members.Count > 0;
}

/// <summary>A member of a tuple or record batch: how to reach it and what it holds.</summary>
internal sealed record ShapeMember(string Access, TypeShape Shape);
