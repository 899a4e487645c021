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

    /// <summary>
    /// Sets OMP_NUM_THREADS=1 in the native environment unless already set; effective only before
    /// libtorch loads (call first thing in a training process). libtorch 2.10's CPU backward with
    /// 2 OpenMP threads turned weights into NaN after one optimiser step on this machine (plain SGD,
    /// no dispose scopes); with one OpenMP thread it never did. Forward passes are not affected.
    /// </summary>
    public static void SingleThreadedOpenMp()
    {
        if (OperatingSystem.IsLinux() && Environment.GetEnvironmentVariable("OMP_NUM_THREADS") is null)
        {
            _ = setenv("OMP_NUM_THREADS", "1", 1);
            Environment.SetEnvironmentVariable("OMP_NUM_THREADS", "1");
        }
    }

    [LibraryImport("libc", EntryPoint = "setenv", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int setenv(string name, string value, int overwrite);

    [LibraryImport("libc", EntryPoint = "mallopt")]
    private static partial int mallopt(int param, int value);
}
