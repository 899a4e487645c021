using Pipeline.Denoising.Architectures;

namespace Pipeline.Denoising.Inference;

/// <summary>
/// Runs a denoising network on a batch of normalised slices. Input is [batch, 2k+1, height, width]
/// row-major (height and width multiples of the architecture's <see cref="ArchitectureSpec.SizeMultiple"/>),
/// output [batch, 1, height, width]. Padding, tiling and normalisation are the caller's
/// (<see cref="SliceDenoiser"/>), so every engine does exactly the same arithmetic around the network.
/// Not thread-safe: one engine per worker thread.
/// </summary>
public interface IDenoisingEngine : IDisposable
{
    /// <summary>"onnxruntime" or "torchsharp".</summary>
    string Name { get; }

    /// <summary>Where it runs, e.g. "cpu (2 threads)" or "cuda:0".</summary>
    string Device { get; }

    ArchitectureSpec Architecture { get; }

    void Run(ReadOnlyMemory<float> input, Memory<float> output, int batch, int height, int width);
}
