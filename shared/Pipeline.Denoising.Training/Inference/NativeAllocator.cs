using System.Runtime.InteropServices;

namespace Pipeline.Denoising.Training.Inference;

/// <summary>
/// Stops glibc from mmapping and unmapping every large tensor (FACTS.md: allocator churn halved
/// libtorch CPU throughput and made it noisy). Call once at process start, before tensors exist;
/// equivalent to MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=68719476736.
/// </summary>
public static partial class NativeAllocator
{
    private const int MTrimThreshold = -1;
    private const int MMmapMax = -4;
    private static int _configured;

    public static void KeepFreedMemory()
    {
        if (!OperatingSystem.IsLinux() || Interlocked.Exchange(ref _configured, 1) == 1)
            return;
        try
        {
            _ = mallopt(MMmapMax, 0);
            _ = mallopt(MTrimThreshold, int.MaxValue);
        }
        catch (EntryPointNotFoundException)
        {
            // Not glibc (e.g. musl): nothing to tune.
        }
    }

    [LibraryImport("libc", EntryPoint = "mallopt")]
    private static partial int mallopt(int param, int value);
}
