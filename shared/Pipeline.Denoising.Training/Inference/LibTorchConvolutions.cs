using System.Runtime.InteropServices;
using TorchSharp;

namespace Pipeline.Denoising.Training.Inference;

/// <summary>
/// Keeps libtorch's CPU convolutions off oneDNN (at::Context::setUserEnabledMkldnn(false), which
/// TorchSharp does not expose). libtorch 2.10's oneDNN float32 convolution backward is wrong for an
/// output channel count that is not a multiple of the SIMD block (our 1-channel output layer): the
/// input gradient differs from the definition by up to 0.6 on unit data, and the channel padding it
/// reads is never initialised, so when recycled memory holds a NaN bit pattern the gradients of
/// every earlier layer become NaN (the intermittent NaN training runs). ATen's own kernels are exact.
/// </summary>
internal static class LibTorchConvolutions
{
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate IntPtr GlobalContext();

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate void SetUserEnabledMkldnn(IntPtr context, [MarshalAs(UnmanagedType.U1)] bool enabled);

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    [return: MarshalAs(UnmanagedType.U1)]
    private delegate bool UserEnabledMkldnn(IntPtr context);

    /// <summary>Turns oneDNN convolutions off (process-wide). False when the loaded libtorch lacks the setter.</summary>
    public static bool AvoidOneDnn()
    {
        if (!TryExport("_ZN2at13globalContextEv", out var context) || !TryExport("_ZN2at7Context20setUserEnabledMkldnnEb", out var set))
            return false;
        Marshal.GetDelegateForFunctionPointer<SetUserEnabledMkldnn>(set)(Marshal.GetDelegateForFunctionPointer<GlobalContext>(context)(), false);
        return true;
    }

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
