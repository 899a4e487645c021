using static TorchSharp.torch;

namespace Pipeline.Denoising.Training.Networks;

/// <summary>Managed arrays to libtorch tensors without sharing memory, and memory layouts.</summary>
internal static class Tensors
{
    /// <summary>
    /// A tensor holding its own copy of the data: TorchSharp's torch.tensor(float[]) clones the array
    /// and pins the clone (its _tensor_generic), so the caller's array may be reused at once.
    /// </summary>
    public static Tensor Copy(float[] data, params long[] shape) => tensor(data, shape);

    /// <summary>
    /// The same values in channels-last (NHWC) memory, with the NCHW shape; no copy when they already are (or
    /// when the layout is ambiguous, e.g. one channel, where libtorch treats the tensor as NCHW).
    /// </summary>
    public static Tensor ChannelsLast(Tensor x)
    {
        using var nhwc = x.permute(0, 2, 3, 1);
        return nhwc.is_contiguous() ? x : nhwc.contiguous().permute(0, 3, 1, 2);
    }
}
