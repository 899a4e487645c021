using static TorchSharp.torch;

namespace Pipeline.Denoising.Training.Networks;

/// <summary>Managed arrays to libtorch tensors without sharing memory.</summary>
internal static class Tensors
{
    /// <summary>
    /// A tensor holding its own copy of the data. torch.tensor(float[]) may wrap the managed array;
    /// autograd keeps inputs alive until backward, long after the caller dropped the array (seen as
    /// random NaN losses), so we clone while the array is certainly alive.
    /// </summary>
    public static Tensor Copy(float[] data, params long[] shape)
    {
        using var view = tensor(data, shape);
        var copy = view.clone();
        GC.KeepAlive(data);
        return copy;
    }
}
