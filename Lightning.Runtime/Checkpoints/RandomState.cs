using System;
using System.Buffers.Binary;

namespace Lightning.Checkpoints;

/// <summary>
/// The checks libtorch makes on a CPU generator state (<c>CPUGeneratorImpl::set_state</c> in
/// aten/src/ATen/CPUGeneratorImpl.cpp), made before the state reaches it: libtorch reports a bad state with a C++
/// exception that TorchSharp's <c>set_rng_state</c> does not catch, which aborts the process. The state is
/// <c>CPUGeneratorImplState</c>: the legacy POD (<c>uint64 the_initial_seed; int left; int seeded; uint64 next;
/// uint64 state[624]; double normal_x, normal_y, normal_rho; int normal_is_valid</c>), then <c>float
/// next_float_normal_sample; bool is_next_float_normal_sample_valid</c>. libtorch accepts it when
/// <c>seeded</c> is true, <c>0 &lt; left &lt;= 624</c> and <c>(uint32)next &lt;= 624</c> (mt19937's <c>is_valid</c>).
/// </summary>
internal static class RandomState
{
    private const int MersenneStateN = 624;
    private const int LeftOffset = 8, SeededOffset = 12, NextOffset = 16;
    private const int StateBytes = MersenneStateN * 8;
    private const int NormalIsValidOffset = NextOffset + 8 + StateBytes + 3 * 8;   // after normal_x, normal_y, normal_rho
    private const int LegacySize = NormalIsValidOffset + 8;                          // int plus padding to 8 bytes
    private const int FloatSampleValidOffset = LegacySize + 4;                       // after the float sample

    /// <summary>What is wrong with <paramref name="state"/>, or null when libtorch accepts it.</summary>
    public static string? Problem(ReadOnlySpan<byte> state)
    {
        if (state.Length <= FloatSampleValidOffset)
            return $"it has {state.Length} bytes, too few for a CPU generator state ({FloatSampleValidOffset + 1} or more)";
        int left = BinaryPrimitives.ReadInt32LittleEndian(state[LeftOffset..]);
        int seeded = BinaryPrimitives.ReadInt32LittleEndian(state[SeededOffset..]);
        ulong next = BinaryPrimitives.ReadUInt64LittleEndian(state[NextOffset..]);
        int normalIsValid = BinaryPrimitives.ReadInt32LittleEndian(state[NormalIsValidOffset..]);
        byte floatValid = state[FloatSampleValidOffset];
        if (seeded == 0) return "'seeded' is 0 (libtorch accepts only a seeded generator)";
        if (left is <= 0 or > MersenneStateN) return $"'left' is {left}; expected 1 to {MersenneStateN}";
        if (next > MersenneStateN) return $"'next' is {next}; expected 0 to {MersenneStateN}";
        if (normalIsValid is not (0 or 1)) return $"'normal_is_valid' is {normalIsValid}; expected 0 or 1";
        if (floatValid > 1) return $"'is_next_float_normal_sample_valid' is {floatValid}; expected 0 or 1";
        return null;
    }
}
