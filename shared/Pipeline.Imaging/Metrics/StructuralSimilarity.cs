using System.Buffers;

namespace Pipeline.Imaging.Metrics;

/// <summary>Mean SSIM of an image pair and, on request, the per-pixel SSIM map.</summary>
/// <param name="Mean">Mean of the map over the interior (a 5-pixel border, the window radius, is left out), within the mask if one was given.</param>
/// <param name="Map">Per-pixel SSIM for the whole image (borders included), or null when not requested.</param>
public sealed record SsimResult(double Mean, Image? Map);

/// <summary>
/// SSIM exactly as Wang et al. 2004 and scikit-image <c>structural_similarity(gaussian_weights=True, sigma=1.5,
/// use_sample_covariance=False, data_range=R)</c>: 11-tap Gaussian window (sigma 1.5, truncated at 3.5 sigma),
/// mirror ("reflect") borders, K1 0.01, K2 0.03, population covariance, mean over the image without the window radius.
/// </summary>
public static class StructuralSimilarity
{
    public const double K1 = 0.01;
    public const double K2 = 0.03;
    public const double Sigma = 1.5;
    public const double Truncate = 3.5;

    /// <summary>Window radius: int(3.5 * 1.5 + 0.5) = 5, as scipy.ndimage computes it.</summary>
    public static readonly int Radius = (int)(Truncate * Sigma + 0.5);

    private static readonly double[] Kernel = GaussianKernel(Sigma, Radius);

    /// <summary>Mean SSIM (see <see cref="SsimResult.Mean"/>).</summary>
    public static double Mean(Image reference, Image test, double dataRange, bool[]? mask = null) =>
        Compute(reference, test, dataRange, mask, withMap: false).Mean;

    /// <summary>Mean SSIM and optionally the SSIM map. Symmetric in its two images.</summary>
    public static SsimResult Compute(Image reference, Image test, double dataRange, bool[]? mask = null, bool withMap = true)
    {
        ArgumentNullException.ThrowIfNull(reference);
        ArgumentNullException.ThrowIfNull(test);
        reference.RequireSameShape(test, nameof(test));
        FidelityMetrics.RequireMask(reference, mask);
        if (!(dataRange > 0)) throw new ArgumentOutOfRangeException(nameof(dataRange), dataRange, "data range must be positive");
        int w = reference.Width, h = reference.Height, window = 2 * Radius + 1;
        if (w < window || h < window)
            throw new ArgumentException($"SSIM needs images of at least {window}x{window}, got {w}x{h}", nameof(reference));

        var n = w * h;
        var pool = ArrayPool<double>.Shared;
        double[] product = pool.Rent(n), scratch = pool.Rent(n),
            ux = pool.Rent(n), uy = pool.Rent(n), uxx = pool.Rent(n), uyy = pool.Rent(n), uxy = pool.Rent(n);
        try
        {
            var a = reference.Pixels;
            var b = test.Pixels;
            for (var i = 0; i < n; i++) product[i] = a[i];
            Filter(product, scratch, ux, w, h);
            for (var i = 0; i < n; i++) product[i] = b[i];
            Filter(product, scratch, uy, w, h);
            for (var i = 0; i < n; i++) product[i] = (double)a[i] * a[i];
            Filter(product, scratch, uxx, w, h);
            for (var i = 0; i < n; i++) product[i] = (double)b[i] * b[i];
            Filter(product, scratch, uyy, w, h);
            for (var i = 0; i < n; i++) product[i] = (double)a[i] * b[i];
            Filter(product, scratch, uxy, w, h);

            var c1 = K1 * dataRange * (K1 * dataRange);
            var c2 = K2 * dataRange * (K2 * dataRange);
            var map = withMap ? reference.Blank() : null;
            double sum = 0;
            long count = 0;
            for (var y = 0; y < h; y++)
            {
                var interiorRow = y >= Radius && y < h - Radius;
                for (var x = 0; x < w; x++)
                {
                    var interior = interiorRow && x >= Radius && x < w - Radius;
                    if (map is null && !interior) continue;
                    var i = y * w + x;
                    double mx = ux[i], my = uy[i];
                    var vx = uxx[i] - mx * mx;
                    var vy = uyy[i] - my * my;
                    var vxy = uxy[i] - mx * my;
                    var s = (2 * mx * my + c1) * (2 * vxy + c2) / ((mx * mx + my * my + c1) * (vx + vy + c2));
                    if (map is not null) map.Pixels[i] = (float)s;
                    if (interior && (mask is null || mask[i]))
                    {
                        sum += s;
                        count++;
                    }
                }
            }
            if (count == 0) throw new ArgumentException("the mask selects no interior pixels", nameof(mask));
            return new SsimResult(sum / count, map);
        }
        finally
        {
            foreach (var buffer in (double[][])[product, scratch, ux, uy, uxx, uyy, uxy]) pool.Return(buffer);
        }
    }

    /// <summary>Separable Gaussian filter with scipy.ndimage "reflect" borders (d c b a | a b c d | d c b a).</summary>
    /// <remarks>Both passes are sums of shifted, weighted rows (SIMD multiply-adds over contiguous memory).</remarks>
    private static void Filter(double[] source, double[] scratch, double[] destination, int w, int h)
    {
        var kernel = Kernel;
        var r = Radius;
        // Along x: copy each row into a mirror-padded buffer, then add the 11 shifted copies.
        Span<double> padded = w + 2 * r <= 4096 ? stackalloc double[w + 2 * r] : new double[w + 2 * r];
        for (var y = 0; y < h; y++)
        {
            var row = source.AsSpan(y * w, w);
            row.CopyTo(padded[r..]);
            for (var p = 0; p < r; p++)
            {
                padded[p] = row[Reflect(p - r, w)];
                padded[r + w + p] = row[Reflect(w + p, w)];
            }
            var target = scratch.AsSpan(y * w, w);
            target.Clear();
            for (var k = 0; k < kernel.Length; k++) MultiplyAdd(target, padded.Slice(k, w), kernel[k]);
        }
        // Along y: whole rows at a time.
        for (var y = 0; y < h; y++)
        {
            var target = destination.AsSpan(y * w, w);
            target.Clear();
            for (var k = 0; k < kernel.Length; k++) MultiplyAdd(target, scratch.AsSpan(Reflect(y + k - r, h) * w, w), kernel[k]);
        }
    }

    /// <summary>target += weight * source.</summary>
    private static void MultiplyAdd(Span<double> target, ReadOnlySpan<double> source, double weight)
    {
        var i = 0;
        if (System.Numerics.Vector.IsHardwareAccelerated)
        {
            var size = System.Numerics.Vector<double>.Count;
            var w = new System.Numerics.Vector<double>(weight);
            for (; i <= target.Length - size; i += size)
            {
                var t = new System.Numerics.Vector<double>(target[i..]);
                (t + w * new System.Numerics.Vector<double>(source[i..])).CopyTo(target[i..]);
            }
        }
        for (; i < target.Length; i++) target[i] += weight * source[i];
    }

    private static int Reflect(int i, int n)
    {
        var period = 2 * n;
        i %= period;
        if (i < 0) i += period;
        return i < n ? i : period - 1 - i;
    }

    private static double[] GaussianKernel(double sigma, int radius)
    {
        var kernel = new double[2 * radius + 1];
        double sum = 0;
        for (var k = -radius; k <= radius; k++) sum += kernel[k + radius] = Math.Exp(-0.5 * k * k / (sigma * sigma));
        for (var k = 0; k < kernel.Length; k++) kernel[k] /= sum;
        return kernel;
    }
}
