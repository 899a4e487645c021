namespace Pipeline.Imaging.Noise;

/// <summary>How a Rician sigma was estimated.</summary>
public enum SigmaSource
{
    /// <summary>From the Rayleigh-distributed background (signal-free air).</summary>
    Background,

    /// <summary>Too little background: the robust Laplacian estimate over the whole image (Rician ~ Gaussian at high SNR).</summary>
    Foreground,
}

/// <summary>A Rician noise sigma and where it came from.</summary>
public sealed record SigmaEstimate(double Sigma, SigmaSource Source, double BackgroundFraction);

/// <summary>
/// Statistics of magnitude MRI, where each pixel is |signal + complex Gaussian noise| (Rice-distributed):
/// the noise sigma from the image itself and the first-order bias correction.
/// </summary>
public static class RicianStatistics
{
    /// <summary>At least this fraction of windows must be background to trust the Rayleigh fit.</summary>
    private const double MinBackgroundFraction = 0.02;

    /// <summary>mean^2 / mean(x^2) is pi/4 = 0.785 for Rayleigh air and near 1 for tissue; split between them.</summary>
    private const double RayleighRatioLimit = 0.87;

    /// <summary>
    /// Bias correction of the magnitude: sqrt(max(x^2 - 2 sigma^2, 0)), since E[x^2] = A^2 + 2 sigma^2 for a
    /// Rician pixel of true amplitude A.
    /// </summary>
    public static float CorrectBias(float x, double sigma) => (float)Math.Sqrt(Math.Max((double)x * x - 2 * sigma * sigma, 0));

    public static Image CorrectBias(Image image, double sigma)
    {
        ArgumentNullException.ThrowIfNull(image);
        var result = image.Blank();
        var source = image.Pixels;
        for (var i = 0; i < source.Length; i++) result.Pixels[i] = CorrectBias(source[i], sigma);
        return result;
    }

    /// <summary>
    /// Estimates sigma from the background by local statistics (Aja-Fernandez et al. 2009): the mean of x^2 over a
    /// 7x7 window is 2 sigma^2 wherever the window sees only air (Rayleigh), and those windows are numerous and
    /// alike, so the mode of the local second moments is 2 sigma^2 even when dark tissue overlaps the background in
    /// the plain histogram. The windows at the mode must look Rayleigh (median of mean^2 / mean(x^2) near pi/4,
    /// tissue gives ~1); if they do not, or fewer than 2% of windows are background, falls back to
    /// <see cref="NoiseEstimator.Estimate"/> averaged over the slices.
    /// </summary>
    public static SigmaEstimate EstimateSigma(IReadOnlyList<Image> slices, int maxSamples = 1 << 20)
    {
        ArgumentNullException.ThrowIfNull(slices);
        if (slices.Count == 0) throw new ArgumentException("no slices", nameof(slices));
        var (secondMoments, ratios) = LocalMoments(slices, maxSamples);
        if (BackgroundSigma(secondMoments, ratios, out var fraction) is { } sigma)
            return new SigmaEstimate(sigma, SigmaSource.Background, fraction);
        var foreground = slices.Where(i => i.Width >= 3 && i.Height >= 3).Select(NoiseEstimator.Estimate).DefaultIfEmpty(0).Average();
        return new SigmaEstimate(foreground, SigmaSource.Foreground, fraction);
    }

    public static SigmaEstimate EstimateSigma(Image image) => EstimateSigma([image]);

    private static double? BackgroundSigma(float[] secondMoments, float[] ratios, out double fraction)
    {
        fraction = 0;
        if (secondMoments.Length < 64) return null;
        var sorted = (float[])secondMoments.Clone();
        Array.Sort(sorted);
        var top = sorted[(int)(0.9 * (sorted.Length - 1))];
        if (!(top > 0)) return null;
        // Coarse mode over [0, P90], then a finer one around it.
        var mode = HistogramMode(sorted, 0, top);
        mode = HistogramMode(sorted, 0, 2 * mode);
        if (!(mode > 0)) return null;

        var near = new List<float>();
        var background = 0;
        for (var i = 0; i < secondMoments.Length; i++)
        {
            var m2 = secondMoments[i];
            if (m2 <= 1.5 * mode) background++;
            if (Math.Abs(m2 - mode) <= 0.25 * mode) near.Add(ratios[i]);
        }
        fraction = background / (double)secondMoments.Length;
        if (near.Count < 16 || fraction < MinBackgroundFraction) return null;
        if (NoiseEstimator.Median([.. near]) > RayleighRatioLimit) return null;
        return Math.Sqrt(mode / 2);
    }

    /// <summary>Centre of the fullest bin of a 256-bin histogram of sorted values in (0, high], smoothed over 3 bins.</summary>
    private static double HistogramMode(float[] sorted, double low, double high)
    {
        const int bins = 256;
        var histogram = new double[bins];
        var width = (high - low) / bins;
        if (!(width > 0)) return 0;
        foreach (var v in sorted)
        {
            if (v <= low) continue; // exact zeros are noise-free padding, not Rayleigh air
            if (v > high) break;
            histogram[Math.Min(bins - 1, (int)((v - low) / width))]++;
        }
        var best = 0;
        double bestValue = -1;
        for (var b = 0; b < bins; b++)
        {
            var smooth = histogram[b] + (b > 0 ? histogram[b - 1] : 0) + (b < bins - 1 ? histogram[b + 1] : 0);
            if (smooth > bestValue) { bestValue = smooth; best = b; }
        }
        return low + (best + 0.5) * width;
    }

    /// <summary>
    /// Mean of x^2 and mean(x)^2 / mean(x^2) over every 7x7 window inside each slice, strided to at most
    /// <paramref name="maxSamples"/> windows. Box sums run along rows then columns (O(1) per pixel).
    /// </summary>
    private static (float[] SecondMoments, float[] Ratios) LocalMoments(IReadOnlyList<Image> slices, int maxSamples)
    {
        const int window = 7, area = window * window;
        long total = slices.Where(s => s.Width >= window && s.Height >= window)
            .Sum(s => (long)(s.Width - window + 1) * (s.Height - window + 1));
        var stride = Math.Max(1, (int)Math.Ceiling(total / (double)maxSamples));
        var capacity = (int)((total + stride - 1) / stride);
        var secondMoments = new float[capacity];
        var ratios = new float[capacity];
        var n = 0;
        long index = 0;
        foreach (var slice in slices)
        {
            int w = slice.Width, h = slice.Height;
            if (w < window || h < window) continue;
            int ow = w - window + 1, oh = h - window + 1;
            var rowSum = new double[ow * h];
            var rowSquares = new double[ow * h];
            var p = slice.Pixels;
            for (var y = 0; y < h; y++)
            {
                double s1 = 0, s2 = 0;
                for (var x = 0; x < w; x++)
                {
                    double v = p[y * w + x];
                    s1 += v;
                    s2 += v * v;
                    if (x >= window)
                    {
                        double old = p[y * w + x - window];
                        s1 -= old;
                        s2 -= old * old;
                    }
                    if (x >= window - 1)
                    {
                        rowSum[y * ow + x - window + 1] = s1;
                        rowSquares[y * ow + x - window + 1] = s2;
                    }
                }
            }
            for (var x = 0; x < ow; x++)
            {
                double s1 = 0, s2 = 0;
                for (var y = 0; y < h; y++)
                {
                    s1 += rowSum[y * ow + x];
                    s2 += rowSquares[y * ow + x];
                    if (y >= window)
                    {
                        s1 -= rowSum[(y - window) * ow + x];
                        s2 -= rowSquares[(y - window) * ow + x];
                    }
                    if (y < window - 1) continue;
                    var position = index + (long)(y - window + 1) * ow + x;
                    if (position % stride != 0 || n >= capacity) continue;
                    var m2 = Math.Max(s2 / area, 0);
                    var m1 = s1 / area;
                    secondMoments[n] = (float)m2;
                    ratios[n++] = m2 > 0 ? (float)(m1 * m1 / m2) : 1f;
                }
            }
            index += (long)ow * oh;
        }
        return (secondMoments.AsSpan(0, n).ToArray(), ratios.AsSpan(0, n).ToArray());
    }
}
