using System.Runtime.InteropServices;
using TorchSharp;

namespace Pipeline.Denoising.Training.Inference;

/// <summary>
/// libtorch's oneDNN switch (at::Context::userEnabledMkldnn, which TorchSharp does not expose): the
/// gradient tests check they ran with oneDNN on, the configuration training uses. libtorch 2.10's
/// oneDNN float32 convolution backward is wrong for an output channel count that is not a multiple
/// of its SIMD block, which <see cref="Networks.DenoisingNetwork"/> avoids by padding such layers.
/// </summary>
internal static class LibTorchConvolutions
{
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate IntPtr GlobalContext();

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    [return: MarshalAs(UnmanagedType.U1)]
    private delegate bool UserEnabledMkldnn(IntPtr context);

    /// <summary>Whether libtorch may use oneDNN (at::Context::userEnabledMkldnn()).</summary>
    public static bool OneDnnEnabled()
    {
        if (!TryExport("_ZN2at13globalContextEv", out var context) || !TryExport("_ZNK2at7Context17userEnabledMkldnnEv", out var get))
            throw new InvalidOperationException("The loaded libtorch does not export at::Context::userEnabledMkldnn.");
        return Marshal.GetDelegateForFunctionPointer<UserEnabledMkldnn>(get)(Marshal.GetDelegateForFunctionPointer<GlobalContext>(context)());
    }

    private static bool TryExport(string symbol, out IntPtr address)
    {
        _ = torch.get_num_threads(); // loads libtorch the way TorchSharp does before we look it up
        address = IntPtr.Zero;
        return NativeLibrary.TryLoad("torch_cpu", typeof(torch).Assembly, null, out var library)
            && NativeLibrary.TryGetExport(library, symbol, out address);
    }
}
