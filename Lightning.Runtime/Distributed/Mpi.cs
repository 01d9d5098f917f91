using System;
using System.Runtime.InteropServices;

namespace Lightning.Distributed;

/// <summary>
/// The few OpenMPI functions data-parallel training needs, bound with P/Invoke through function pointers taken from
/// <c>libmpi.so.40</c> (Debian's libopenmpi3, from <c>apt-get install openmpi-bin libopenmpi-dev</c>). OpenMPI's handles
/// (<c>MPI_COMM_WORLD</c>, <c>MPI_FLOAT</c>, <c>MPI_SUM</c>...) are addresses of its global objects, read with
/// <see cref="NativeLibrary.GetExport"/>.
/// </summary>
internal static unsafe class Mpi
{
    private static IntPtr _library;
    private static delegate* unmanaged<int*, int> _initialized;
    private static delegate* unmanaged<IntPtr, IntPtr, int> _init;
    private static delegate* unmanaged<int> _finalize;
    private static delegate* unmanaged<int*, int> _finalized;
    private static delegate* unmanaged<IntPtr, int*, int> _commRank;
    private static delegate* unmanaged<IntPtr, int*, int> _commSize;
    private static delegate* unmanaged<void*, void*, int, IntPtr, IntPtr, IntPtr, int> _allreduce;
    private static delegate* unmanaged<void*, int, IntPtr, int, IntPtr, int> _bcast;
    private static delegate* unmanaged<IntPtr, int> _barrier;
    private static delegate* unmanaged<IntPtr, int, int> _abort;

    public static IntPtr CommWorld { get; private set; }
    public static IntPtr Float { get; private set; }
    public static IntPtr Double { get; private set; }
    public static IntPtr Sum { get; private set; }

    /// <summary><c>MPI_IN_PLACE</c> in OpenMPI.</summary>
    public static readonly void* InPlace = (void*)1;

    /// <summary>Loads libmpi and initializes MPI once per process; a clear error when OpenMPI is not installed.</summary>
    public static void EnsureInitialized()
    {
        if (_library != IntPtr.Zero) return;
        if (!NativeLibrary.TryLoad("libmpi.so.40", out var library) && !NativeLibrary.TryLoad("libmpi.so", out library))
            throw new LightningException(
                "TrainerOptions.Strategy \"ddp\" needs OpenMPI (libmpi.so.40), which is not installed: run `sudo apt-get install -y openmpi-bin libopenmpi-dev` " +
                "and launch with `mpirun -np N dotnet app.dll` (docs/distributed.md).");
        IntPtr F(string name) => NativeLibrary.GetExport(library, name);
        _initialized = (delegate* unmanaged<int*, int>)F("MPI_Initialized");
        _init = (delegate* unmanaged<IntPtr, IntPtr, int>)F("MPI_Init");
        _finalize = (delegate* unmanaged<int>)F("MPI_Finalize");
        _finalized = (delegate* unmanaged<int*, int>)F("MPI_Finalized");
        _commRank = (delegate* unmanaged<IntPtr, int*, int>)F("MPI_Comm_rank");
        _commSize = (delegate* unmanaged<IntPtr, int*, int>)F("MPI_Comm_size");
        _allreduce = (delegate* unmanaged<void*, void*, int, IntPtr, IntPtr, IntPtr, int>)F("MPI_Allreduce");
        _bcast = (delegate* unmanaged<void*, int, IntPtr, int, IntPtr, int>)F("MPI_Bcast");
        _barrier = (delegate* unmanaged<IntPtr, int>)F("MPI_Barrier");
        _abort = (delegate* unmanaged<IntPtr, int, int>)F("MPI_Abort");
        CommWorld = F("ompi_mpi_comm_world");
        Float = F("ompi_mpi_float");
        Double = F("ompi_mpi_double");
        Sum = F("ompi_mpi_op_sum");
        int flag;
        Check(_initialized(&flag), "MPI_Initialized");
        if (flag == 0)
        {
            Check(_init(IntPtr.Zero, IntPtr.Zero), "MPI_Init");
            AppDomain.CurrentDomain.ProcessExit += (_, _) => FinalizeAtExit();
        }
        _library = library;
    }

    public static int Rank()
    {
        int rank;
        Check(_commRank(CommWorld, &rank), "MPI_Comm_rank");
        return rank;
    }

    public static int Size()
    {
        int size;
        Check(_commSize(CommWorld, &size), "MPI_Comm_size");
        return size;
    }

    /// <summary>Sums <paramref name="count"/> values at <paramref name="buffer"/> across all ranks, in place.</summary>
    public static void AllreduceSumInPlace(void* buffer, int count, IntPtr type) =>
        Check(_allreduce(InPlace, buffer, count, type, Sum, CommWorld), "MPI_Allreduce");

    /// <summary>Copies <paramref name="count"/> values at <paramref name="buffer"/> from rank 0 to every rank.</summary>
    public static void BroadcastFromZero(void* buffer, int count, IntPtr type) =>
        Check(_bcast(buffer, count, type, 0, CommWorld), "MPI_Bcast");

    public static void Barrier() => Check(_barrier(CommWorld), "MPI_Barrier");

    /// <summary>Ends every rank of the job now (after an exception on one rank, so the others do not wait forever).</summary>
    public static void Abort(int code)
    {
        if (_library != IntPtr.Zero) _abort(CommWorld, code);
    }

    private static void FinalizeAtExit()
    {
        int done;
        if (_finalized(&done) == 0 && done == 0) _finalize();
    }

    private static void Check(int code, string function)
    {
        if (code != 0) throw new LightningException($"{function} failed with MPI error code {code}.");
    }
}

/// <summary>The address of a tensor's data, from TorchSharp's own native library (TorchSharp does not expose it publicly).</summary>
internal static class TensorMemory
{
    [DllImport("LibTorchSharp")]
    private static extern IntPtr THSTensor_data(IntPtr handle);

    /// <summary>The first element of a contiguous CPU tensor.</summary>
    public static IntPtr Pointer(TorchSharp.torch.Tensor tensor)
    {
        if (tensor.device_type != TorchSharp.DeviceType.CPU || !tensor.is_contiguous())
            throw new ArgumentException("MPI needs a contiguous CPU tensor.", nameof(tensor));
        return THSTensor_data(tensor.Handle);
    }
}
