using Pipeline.Imaging;
using Pipeline.Imaging.Noise;

namespace Pipeline.Denoising.Baselines;

/// <summary>
/// Unbiased non-local means for magnitude MRI: sigma estimated from the series itself
/// (<see cref="RicianStatistics.EstimateSigma(IReadOnlyList{Image}, int)"/>: background Rayleigh statistics,
/// else the robust residual estimate), NLM with h = <see cref="HOverSigma"/> sigma and that sigma, then the
/// Rician bias correction sqrt(max(d^2 - 2 sigma^2, 0)), which removes the positive floor NLM leaves in air.
/// </summary>
public sealed class UnbiasedNonLocalMeans(double hOverSigma = UnbiasedNonLocalMeans.DefaultHOverSigma, int patchSize = 5, int patchDistance = 6)
    : ISeriesDenoiser
{
    /// <summary>Chosen on the Colin27 validation slices (70-80 %) with scikit-image, never on the test slices (README).</summary>
    public const double DefaultHOverSigma = 0.6;

    public string Name => "nlm-unbiased";

    public int ContextSlices => 0;

    public bool ThreadSafe => true;

    public double HOverSigma => hOverSigma;

    public IReadOnlyList<Image> Denoise(IReadOnlyList<Image> series)
    {
        ArgumentNullException.ThrowIfNull(series);
        if (series.Count == 0)
            return [];
        var sigma = RicianStatistics.EstimateSigma(series).Sigma;
        var result = new Image[series.Count];
        Parallel.For(0, series.Count, k => result[k] = Denoise(series[k], sigma));
        return result;
    }

    /// <summary>One slice with a known (or separately estimated) sigma.</summary>
    public Image Denoise(Image slice, double sigma)
    {
        ArgumentNullException.ThrowIfNull(slice);
        if (!(sigma > 0))
            return slice.Clone(); // noise-free (or constant) input: nothing to remove
        return RicianStatistics.CorrectBias(NonLocalMeans.Denoise(slice, hOverSigma * sigma, sigma, patchSize, patchDistance), sigma);
    }
}

/// <summary>3x3 median per slice: the simplest classical reference.</summary>
public sealed class MedianDenoiser : ISeriesDenoiser
{
    public string Name => "median3x3";

    public int ContextSlices => 0;

    public bool ThreadSafe => true;

    public IReadOnlyList<Image> Denoise(IReadOnlyList<Image> series)
    {
        ArgumentNullException.ThrowIfNull(series);
        var result = new Image[series.Count];
        Parallel.For(0, series.Count, k => result[k] = MedianFilter.Median3x3(series[k]));
        return result;
    }
}
