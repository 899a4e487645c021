using System.Numerics;
using Pipeline.Imaging;

namespace Pipeline.Denoising.Baselines;

/// <summary>
/// Non-local means (Buades et al. 2005) exactly as scikit-image 0.19's <c>denoise_nl_means(fast_mode=True)</c>
/// computes it (Darbon et al. 2008 shift loop), so its figures can be compared with the literature's:
/// for every shift t in [-d, d]^2 the weight of the pair (p, p + t) is exp(-max(D, 0) / (h^2 s^2)) (0 above 5), with
/// D = sum of ((I(q) - I(q + t))^2 - 2 sigma^2) over the (s-1)x(s-1) box (r - s/2, r + s/2] around the pair's
/// left member r (both halves when they share a column), exp is Schraudolph's approximation (as skimage's
/// fast_exp), borders mirror (numpy "reflect"). Single-threaded and SIMD over rows: callers parallelise over slices.
/// </summary>
public static class NonLocalMeans
{
    /// <summary>skimage's patch distance cut-off: weights of larger normalised distances are 0.</summary>
    private const float DistanceCutoff = 5f;

    /// <summary>Schraudolph (1999) exp with skimage's constants, in float: 2^20 / ln 2, and (1023 - 127) * 2^20 - 60801 + 1023 * 2^20 folded.</summary>
    private const float ExpScale = 1512775.3951951856f;
    private const int ExpOffset = 1072693248 - 60801 - ((1023 - 127) << 20);

    public static Image Denoise(Image noisy, double h, double sigma, int patchSize = 5, int patchDistance = 6)
    {
        ArgumentNullException.ThrowIfNull(noisy);
        if (!(h > 0) || !(sigma >= 0) || patchSize < 1 || patchDistance < 0)
            throw new ArgumentOutOfRangeException(nameof(h), "NLM needs h > 0, sigma >= 0, patch size >= 1 and distance >= 0.");
        if (patchSize % 2 == 0)
            patchSize++; // skimage: odd patches only
        var offset = patchSize / 2;
        var d = patchDistance;
        var pad = offset + d + 1;
        int height = noisy.Height, width = noisy.Width;
        int rows = height + 2 * pad, cols = width + 2 * pad;
        var image = Pad(noisy, pad);
        var sum = new float[rows * cols];
        var weights = new float[rows * cols];
        var squared = new float[rows * cols];
        var box = new float[rows * cols];
        var distanceRow = new float[cols];
        var weightRow = new float[cols];
        var invH2S2 = (float)(1 / (h * h * patchSize * patchSize));
        var twoVariance = (float)(2 * sigma * sigma);

        for (var ty = -d; ty <= d; ty++)
        {
            for (var tx = 0; tx <= d; tx++)
            {
                var alpha = tx == 0 ? 0.5f : 1f;
                // Left members r whose pair touches the image: r itself inside, or r + t inside.
                int r0 = pad + Math.Min(0, -ty), r1 = pad + height + Math.Max(0, -ty);
                int c0 = pad - tx, c1 = pad + width;
                // Squared differences minus the noise's expected share, then the box sums along rows.
                for (var y = r0 - offset + 1; y < r1 + offset; y++)
                {
                    var a = image.AsSpan(y * cols, cols);
                    var b = image.AsSpan((y + ty) * cols + tx, cols - tx);
                    var e = squared.AsSpan(y * cols, cols);
                    SquaredDifference(a, b, e, c0 - offset + 1, c1 + offset, twoVariance);
                    BoxSum(e, box.AsSpan(y * cols, cols), c0, c1, offset);
                }
                for (var r = r0; r < r1; r++)
                {
                    ColumnBoxSum(box, r, cols, c0, c1, offset, distanceRow);
                    Weights(distanceRow, weightRow, c0, c1, invH2S2, alpha);
                    var self = r * cols;
                    var partner = (r + ty) * cols + tx;
                    Accumulate(weightRow, image.AsSpan(partner, cols - tx), sum.AsSpan(self, cols), weights.AsSpan(self, cols), c0, c1);
                    Accumulate(weightRow, image.AsSpan(self, cols), sum.AsSpan(partner, cols - tx), weights.AsSpan(partner, cols - tx), c0, c1);
                }
            }
        }

        var result = noisy.Blank();
        for (var y = 0; y < height; y++)
            for (var x = 0; x < width; x++)
            {
                var i = (y + pad) * cols + x + pad;
                result.Pixels[y * width + x] = sum[i] / weights[i];
            }
        return result;
    }

    /// <summary>The image padded by mirroring without repeating the edge (numpy "reflect").</summary>
    private static float[] Pad(Image image, int pad)
    {
        int cols = image.Width + 2 * pad, rows = image.Height + 2 * pad;
        var padded = new float[rows * cols];
        for (var y = 0; y < rows; y++)
        {
            var source = image.Row(Reflect(y - pad, image.Height));
            for (var x = 0; x < cols; x++)
                padded[y * cols + x] = source[Reflect(x - pad, image.Width)];
        }
        return padded;
    }

    private static int Reflect(int i, int size)
    {
        if (size == 1)
            return 0;
        var period = 2 * (size - 1);
        i = ((i % period) + period) % period;
        return i < size ? i : period - i;
    }

    private static void SquaredDifference(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> e, int from, int to, float twoVariance)
    {
        var x = from;
        var v2 = new Vector<float>(twoVariance);
        for (; x <= to - Vector<float>.Count; x += Vector<float>.Count)
        {
            var diff = new Vector<float>(a[x..]) - new Vector<float>(b[x..]);
            (diff * diff - v2).CopyTo(e[x..]);
        }
        for (; x < to; x++)
        {
            var diff = a[x] - b[x];
            e[x] = diff * diff - twoVariance;
        }
    }

    /// <summary>box[c] = e[c - offset + 1] + ... + e[c + offset] (skimage's integral-image box).</summary>
    private static void BoxSum(ReadOnlySpan<float> e, Span<float> box, int from, int to, int offset)
    {
        box[from..to].Clear();
        for (var k = -offset + 1; k <= offset; k++)
        {
            var x = from;
            for (; x <= to - Vector<float>.Count; x += Vector<float>.Count)
                (new Vector<float>(box[x..]) + new Vector<float>(e[(x + k)..])).CopyTo(box[x..]);
            for (; x < to; x++)
                box[x] += e[x + k];
        }
    }

    private static void ColumnBoxSum(float[] box, int r, int cols, int from, int to, int offset, Span<float> distance)
    {
        box.AsSpan((r - offset + 1) * cols + from, to - from).CopyTo(distance[from..to]);
        for (var k = -offset + 2; k <= offset; k++)
        {
            var row = box.AsSpan((r + k) * cols, cols);
            var x = from;
            for (; x <= to - Vector<float>.Count; x += Vector<float>.Count)
                (new Vector<float>(distance[x..]) + new Vector<float>(row[x..])).CopyTo(distance[x..]);
            for (; x < to; x++)
                distance[x] += row[x];
        }
    }

    private static void Weights(ReadOnlySpan<float> distance, Span<float> weight, int from, int to, float invH2S2, float alpha)
    {
        var x = from;
        var scale = new Vector<float>(invH2S2);
        var cutoff = new Vector<float>(DistanceCutoff);
        var expScale = new Vector<float>(-ExpScale);
        var expOffset = new Vector<int>(ExpOffset);
        var a = new Vector<float>(alpha);
        for (; x <= to - Vector<float>.Count; x += Vector<float>.Count)
        {
            var dist = Vector.Max(new Vector<float>(distance[x..]), Vector<float>.Zero) * scale;
            var bits = Vector.ShiftLeft(Vector.ConvertToInt32(Vector.Floor(dist * expScale)) + expOffset, 3);
            var w = a * Vector.AsVectorSingle(bits);
            Vector.ConditionalSelect(Vector.GreaterThan(dist, cutoff), Vector<float>.Zero, w).CopyTo(weight[x..]);
        }
        for (; x < to; x++)
        {
            var dist = Math.Max(distance[x], 0f) * invH2S2;
            weight[x] = dist > DistanceCutoff ? 0f : alpha * FastExp(-dist);
        }
    }

    /// <summary>exp(y) for y in [-5, 0] to ~3 % (Schraudolph 1999), the value skimage's NLM uses.</summary>
    internal static float FastExp(float y) =>
        BitConverter.Int32BitsToSingle(((int)MathF.Floor(y * ExpScale) + ExpOffset) << 3);

    private static void Accumulate(ReadOnlySpan<float> weight, ReadOnlySpan<float> values, Span<float> sum, Span<float> weights, int from, int to)
    {
        var x = from;
        for (; x <= to - Vector<float>.Count; x += Vector<float>.Count)
        {
            var w = new Vector<float>(weight[x..]);
            (new Vector<float>(sum[x..]) + w * new Vector<float>(values[x..])).CopyTo(sum[x..]);
            (new Vector<float>(weights[x..]) + w).CopyTo(weights[x..]);
        }
        for (; x < to; x++)
        {
            sum[x] += weight[x] * values[x];
            weights[x] += weight[x];
        }
    }
}
