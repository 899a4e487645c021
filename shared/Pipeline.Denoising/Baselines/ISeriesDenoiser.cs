using Pipeline.Imaging;

namespace Pipeline.Denoising.Baselines;

/// <summary>
/// Anything that denoises a series in physical units: a network (<see cref="Inference.SeriesDenoiser"/>) or a
/// classical baseline. Evaluation runs them side by side on the same noisy slices.
/// </summary>
public interface ISeriesDenoiser
{
    /// <summary>Short name for reports, e.g. "nlm-unbiased", "median3x3", "model".</summary>
    string Name { get; }

    /// <summary>Neighbouring slices each side that the method reads (2.5D networks); 0 for 2D methods.</summary>
    int ContextSlices { get; }

    /// <summary>True when separate calls may run in parallel (the classical filters; not an engine).</summary>
    bool ThreadSafe { get; }

    IReadOnlyList<Image> Denoise(IReadOnlyList<Image> series);
}
