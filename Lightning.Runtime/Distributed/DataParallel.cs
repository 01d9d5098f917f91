using System;
using System.Collections.Generic;
using System.Linq;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Lightning.Distributed;

/// <summary>
/// Data-parallel training over MPI, as PyTorch's DDP: one process per device, rank 0's initial weights broadcast to all,
/// a disjoint shard of each epoch's samples per rank, and gradients averaged with all-reduce over contiguous buckets
/// before every optimizer step. Logged epoch values are averaged across ranks, so every rank takes the same decisions
/// (early stopping, best checkpoint); only rank 0 writes files and prints.
/// </summary>
public sealed class DataParallel
{
    /// <summary>Bytes per gradient bucket (PyTorch's default is 25 MiB).</summary>
    public const long BucketBytes = 25L << 20;

    private DataParallel(int rank, int worldSize)
    {
        Rank = rank;
        WorldSize = worldSize;
    }

    /// <summary>This process's rank, from 0.</summary>
    public int Rank { get; }

    /// <summary>The number of processes.</summary>
    public int WorldSize { get; }

    /// <summary>Time spent averaging gradients (bucketing, all-reduce, copying back) in this process.</summary>
    public TimeSpan AllReduceTime => TimeSpan.FromTicks(_allReduceTicks * TimeSpan.TicksPerSecond / System.Diagnostics.Stopwatch.Frequency);

    /// <summary>Gradient all-reduces done in this process.</summary>
    public long AllReduceCount { get; private set; }

    private long _allReduceTicks;

    /// <summary>True on rank 0, the process that writes checkpoints and logs.</summary>
    public bool IsGlobalZero => Rank == 0;

    /// <summary>Initializes MPI (once per process) and reads this process's rank and the world size.</summary>
    public static DataParallel Start()
    {
        Mpi.EnsureInitialized();
        return new DataParallel(Mpi.Rank(), Mpi.Size());
    }

    /// <summary>Copies rank 0's parameters and buffers to every rank.</summary>
    public unsafe void BroadcastWeights(nn.Module module)
    {
        if (WorldSize == 1) return;
        using var noGrad = no_grad();
        foreach (var (_, tensor) in module.state_dict())
        {
            if (tensor.numel() == 0) continue;
            using var scope = NewDisposeScope();
            var (buffer, type) = Contiguous(tensor);
            Mpi.BroadcastFromZero((void*)TensorMemory.Pointer(buffer), checked((int)buffer.numel()), type);
            if (!ReferenceEquals(buffer, tensor)) tensor.copy_(buffer);
        }
    }

    /// <summary>
    /// Averages the gradients of <paramref name="parameters"/> across ranks: each bucket of up to <see cref="BucketBytes"/>
    /// is one contiguous float tensor, all-reduced in place on its memory, then copied back into the gradients.
    /// </summary>
    public unsafe void AllReduceGradients(IReadOnlyList<Parameter> parameters)
    {
        if (WorldSize == 1) return;
        long started = System.Diagnostics.Stopwatch.GetTimestamp();
        AllReduceCount++;
        using var timing = new Elapsed(this, started);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var grads = parameters.Where(p => p.grad is not null).Select(p => p.grad!).ToList();
        int start = 0;
        while (start < grads.Count)
        {
            long bytes = 0;
            int end = start;
            do { bytes += grads[end].numel() * grads[end].element_size(); end++; }
            while (end < grads.Count && bytes + grads[end].numel() * grads[end].element_size() <= BucketBytes && grads[end].dtype == grads[start].dtype);
            var bucketGrads = grads.GetRange(start, end - start);
            var bucket = cat(bucketGrads.Select(g => g.flatten()).ToList(), 0).to(CPU).contiguous();
            var type = MpiType(bucket.dtype);
            Mpi.AllreduceSumInPlace((void*)TensorMemory.Pointer(bucket), checked((int)bucket.numel()), type);
            bucket.div_(WorldSize);
            long offset = 0;
            foreach (var g in bucketGrads)
            {
                g.copy_(bucket.narrow(0, offset, g.numel()).view_as(g));
                offset += g.numel();
            }
            start = end;
        }
    }

    private readonly struct Elapsed(DataParallel owner, long started) : IDisposable
    {
        public void Dispose() => owner._allReduceTicks += System.Diagnostics.Stopwatch.GetTimestamp() - started;
    }

    /// <summary>The mean of each value across ranks (every rank passes the same names in the same order).</summary>
    public unsafe void AverageInPlace(double[] values)
    {
        if (WorldSize == 1 || values.Length == 0) return;
        fixed (double* p = values) Mpi.AllreduceSumInPlace(p, values.Length, Mpi.Double);
        for (int i = 0; i < values.Length; i++) values[i] /= WorldSize;
    }

    /// <summary>Rank 0's <paramref name="value"/> on every rank (one MPI_Bcast), e.g. the number of the run folder rank 0 created.</summary>
    public unsafe long BroadcastFromZero(long value)
    {
        if (WorldSize == 1) return value;
        double carried = value;   // the binding has the double type; run numbers are far below 2^53
        Mpi.BroadcastFromZero(&carried, 1, Mpi.Double);
        return (long)carried;
    }

    /// <summary>
    /// Makes every rank hold the same values: the mean across ranks where <paramref name="synced"/> is true (Lightning's
    /// sync_dist), rank 0's value elsewhere. One all-reduce for all of them.
    /// </summary>
    public unsafe void Agree(double[] values, bool[] synced)
    {
        if (WorldSize == 1 || values.Length == 0) return;
        var contributions = new double[values.Length];
        for (int i = 0; i < values.Length; i++)
            contributions[i] = synced[i] ? values[i] / WorldSize : IsGlobalZero ? values[i] : 0;
        fixed (double* p = contributions) Mpi.AllreduceSumInPlace(p, contributions.Length, Mpi.Double);
        Array.Copy(contributions, values, values.Length);
    }

    /// <summary>True on every rank when any rank asks to stop (Lightning's reduce_boolean_decision), so all leave the loop together.</summary>
    public unsafe bool AnyStops(bool stop)
    {
        if (WorldSize == 1) return stop;
        double flag = stop ? 1 : 0;
        Mpi.AllreduceSumInPlace(&flag, 1, Mpi.Double);
        return flag > 0;
    }

    /// <summary>Two stop flags agreed in one collective: each is true on every rank when it is true on any.</summary>
    public unsafe (bool First, bool Second) AnyStops(bool first, bool second)
    {
        if (WorldSize == 1) return (first, second);
        double* flags = stackalloc double[2];
        flags[0] = first ? 1 : 0;
        flags[1] = second ? 1 : 0;
        Mpi.AllreduceSumInPlace(flags, 2, Mpi.Double);
        return (flags[0] > 0, flags[1] > 0);
    }

    /// <summary>Waits for every rank.</summary>
    public void Barrier()
    {
        if (WorldSize > 1) Mpi.Barrier();
    }

    /// <summary>Ends the whole job after a failure on this rank, so the other ranks do not hang in a collective.</summary>
    public void AbortJob(Exception error)
    {
        if (WorldSize == 1) return;
        Console.Error.WriteLine($"rank {Rank}: {error.GetType().Name}: {error.Message}");
        Console.Error.Flush();
        Mpi.Abort(1);
    }

    private static (Tensor Buffer, IntPtr Type) Contiguous(Tensor tensor)
    {
        var buffer = tensor.device_type == DeviceType.CPU && tensor.is_contiguous() ? tensor : tensor.to(CPU).contiguous();
        return (buffer, MpiType(buffer.dtype));
    }

    private static IntPtr MpiType(ScalarType type) => type switch
    {
        ScalarType.Float32 => Mpi.Float,
        ScalarType.Float64 => Mpi.Double,
        _ => throw new LightningException($"Data-parallel training supports float32 and float64 tensors, not {type} (use Precision \"32-true\" or \"64-true\")."),
    };
}
