using static TorchSharp.torch;

namespace Pipeline.Denoising.Training.Networks;

/// <summary>Managed arrays to libtorch tensors without sharing memory.</summary>
internal static class Tensors
{
    /// <summary>
    /// A tensor holding its own copy of the data: TorchSharp's torch.tensor(float[]) clones the array
    /// and pins the clone (its _tensor_generic), so the caller's array may be reused at once.
    /// </summary>
    public static Tensor Copy(float[] data, params long[] shape) => tensor(data, shape);
}
