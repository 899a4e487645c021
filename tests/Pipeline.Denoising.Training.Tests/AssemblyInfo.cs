using System.Runtime.CompilerServices;
using Pipeline.Denoising.Training.Inference;

// libtorch's thread count is process-wide and the memory test reads process RSS: run classes one at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace Pipeline.Denoising.Training.Tests;

internal static class NativeSetup
{
    /// <summary>Before libtorch loads: one OpenMP thread for training (see NativeAllocator.SingleThreadedOpenMp).</summary>
    [ModuleInitializer]
    internal static void Init() => NativeAllocator.SingleThreadedOpenMp();
}
