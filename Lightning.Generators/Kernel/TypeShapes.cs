using System.Globalization;
using System.Linq;
using Lightning.Generators.Helpers;
using Lightning.Generators.Kernel.Model;
using Microsoft.CodeAnalysis;

namespace Lightning.Generators.Kernel;

/// <summary>Reads the tensor structure of a batch or prediction type (what the generated transfer and size code walks).</summary>
internal static class TypeShapes
{
    public static TypeShape ShapeOf(ITypeSymbol type, KnownSymbols known, int depth = 0)
    {
        var name = type.ToDisplayString(Declarations.TypeFormat);
        if (known.IsTensor(type)) return new TypeShape(ShapeKind.Tensor, name, EquatableArray<ShapeMember>.Empty);
        if (depth > 4) return new TypeShape(ShapeKind.Other, name, EquatableArray<ShapeMember>.Empty);
        if (type is IArrayTypeSymbol { Rank: 1 } array && known.IsTensor(array.ElementType))
            return new TypeShape(ShapeKind.TensorArray, name, EquatableArray<ShapeMember>.Empty);
        if (type is INamedTypeSymbol { IsTupleType: true } tuple)
        {
            var members = tuple.TupleElements.Select((e, i) => new ShapeMember("Item" + (i + 1).ToString(CultureInfo.InvariantCulture), ShapeOf(e.Type, known, depth + 1)));
            return new TypeShape(ShapeKind.Tuple, name, members.ToEquatableArray());
        }
        if (type is INamedTypeSymbol { IsRecord: true } record)
        {
            var members = record.GetMembers().OfType<IPropertySymbol>()
                .Where(p => !p.IsStatic && p.DeclaredAccessibility == Accessibility.Public && p.SetMethod is not null && !p.IsIndexer && p.Name != "EqualityContract")
                .Select(p => new ShapeMember(p.Name, ShapeOf(p.Type, known, depth + 1)))
                .Where(m => m.Shape.HasTensors);
            return new TypeShape(ShapeKind.Record, name, members.ToEquatableArray());
        }
        return new TypeShape(ShapeKind.Other, name, EquatableArray<ShapeMember>.Empty);
    }
}
