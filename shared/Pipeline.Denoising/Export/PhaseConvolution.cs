namespace Pipeline.Denoising.Export;

/// <summary>
/// Exact rewrites of "3x3 convolution (pad 1) of a nearest x2 upsampled image" as convolutions at the
/// low resolution. An image X of size (k h, k w) is held as k x k phase planes [k^2 c, h, w], plane
/// (p, q) holding X[k i + p, k j + q] at channel (p k + q) c + channel, which is DepthToSpace's DCR
/// order. Every output pixel of the convolution of Up2(X) reads a 3x3 neighbourhood of the planes, so
/// the layer becomes one 3x3 convolution from k^2 c to (2k)^2 m channels whose taps are sums of the
/// original ones. ONNX Runtime then never makes the 4x larger upsampled tensor, and a 1-channel output
/// layer gets (2k)^2 output channels instead of 1 padded to its SIMD block (on the cdae at 256x256 that
/// layer took 24 % of the run for 2.6 % of the multiply-adds). The dense kernel is mostly zeros, so
/// the exporter runs it as its 2x2 parts (<see cref="SplitByOutputPhase"/>, <see cref="SplitByInputPlane"/>).
/// Same results up to float rounding.
/// </summary>
internal static class PhaseConvolution
{
    /// <summary>The kernel [(2k)^2 m, k^2 c, 3, 3] and bias of the convolution of Up2(X) on X's k x k planes.</summary>
    public static (WeightTensor Weight, WeightTensor Bias) UpsampledKernel(WeightTensor weight, WeightTensor bias, int k)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        int m = (int)weight.Shape[0], c = (int)weight.Shape[1], outPhases = 2 * k, inChannels = k * k * c;
        var w = new float[outPhases * outPhases * m * inChannels * 9];
        var b = new float[outPhases * outPhases * m];
        for (var p = 0; p < outPhases; p++)
            for (var q = 0; q < outPhases; q++)
                for (var o = 0; o < m; o++)
                {
                    var outChannel = (p * outPhases + q) * m + o;
                    b[outChannel] = bias.Values[o];
                    for (var ky = 0; ky < 3; ky++)
                    {
                        var (rowPlane, row) = Source(p, ky, k);
                        for (var kx = 0; kx < 3; kx++)
                        {
                            var (columnPlane, column) = Source(q, kx, k);
                            for (var i = 0; i < c; i++)
                            {
                                var inChannel = (rowPlane * k + columnPlane) * c + i;
                                w[((outChannel * inChannels + inChannel) * 3 + row) * 3 + column] +=
                                    weight.Values[((o * c + i) * 3 + ky) * 3 + kx];
                            }
                        }
                    }
                }
        return (new WeightTensor([outPhases * outPhases * m, inChannels, 3, 3], w), new WeightTensor([outPhases * outPhases * m], b));
    }

    /// <summary>
    /// <see cref="UpsampledKernel"/>'s tap sums on one axis as a 0/1 map [2k, k, 3, 3]: entry (p, plane, s, t) is 1
    /// when output phase p's tap t reads the plane's low-resolution tap s. Training applies it to its weights
    /// (kernel = map . weight . map) so that autograd differentiates the same rewrite.
    /// </summary>
    public static WeightTensor TapMap(int k)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        var map = new float[2 * k * k * 3 * 3];
        for (var p = 0; p < 2 * k; p++)
            for (var t = 0; t < 3; t++)
            {
                var (plane, tap) = Source(p, t, k);
                map[((p * k + plane) * 3 + tap) * 3 + t] = 1;
            }
        return new WeightTensor([2 * k, k, 3, 3], map);
    }

    /// <summary>
    /// A kernel made by <see cref="UpsampledKernel"/> with k = 1 as its four output phases' 2x2 kernels
    /// (the rest of each 3x3 is zero) with their pads [top, left, bottom, right], in channel order.
    /// </summary>
    public static IEnumerable<(WeightTensor Weight, WeightTensor Bias, long[] Pads)> SplitByOutputPhase(WeightTensor weight, WeightTensor bias)
    {
        int m = (int)weight.Shape[0] / 4, c = (int)weight.Shape[1];
        for (var a = 0; a < 2; a++)
            for (var b = 0; b < 2; b++)
            {
                var phase = a * 2 + b;
                var (w, pads) = Crop(weight, phase * m, m, 0, c, Taps(a, 0, 1), Taps(b, 0, 1));
                yield return (w, new WeightTensor([m], bias.Values.AsSpan(phase * m, m).ToArray()), pads);
            }
    }

    /// <summary>
    /// A kernel made by <see cref="UpsampledKernel"/> with k &gt; 1 as one kernel per input plane, in plane
    /// order, to be summed: every output phase reads a plane through 2 of the 3 taps per axis, the same 2
    /// for all phases, so each part is 2x2 (4/9 of the dense multiply-adds). The bias goes to the sum.
    /// </summary>
    public static IEnumerable<(WeightTensor Weight, long[] Pads)> SplitByInputPlane(WeightTensor weight, int k)
    {
        var c = (int)weight.Shape[1] / (k * k);
        for (var p = 0; p < k; p++)
            for (var q = 0; q < k; q++)
                yield return Crop(weight, 0, (int)weight.Shape[0], (p * k + q) * c, c, Taps(null, p, k), Taps(null, q, k));
    }

    /// <summary>The taps [first, last] (0..2) through which output phase p of 2k (null: any) reads input plane q of k, on one axis.</summary>
    private static (int First, int Last) Taps(int? p, int q, int k)
    {
        var taps = (p is { } only ? [only] : Enumerable.Range(0, 2 * k))
            .SelectMany(phase => Enumerable.Range(0, 3).Select(t => Source(phase, t, k)))
            .Where(s => s.Plane == q).Select(s => s.Tap).ToList();
        return (taps.Min(), taps.Max());
    }

    /// <summary>Output channels, input channels and a tap window of a 3x3 kernel, with the pads that keep the output size.</summary>
    private static (WeightTensor Weight, long[] Pads) Crop(WeightTensor weight, int outStart, int outCount, int inStart, int inCount,
        (int First, int Last) rows, (int First, int Last) columns)
    {
        int c = (int)weight.Shape[1], h = rows.Last - rows.First + 1, w = columns.Last - columns.First + 1;
        var values = new float[outCount * inCount * h * w];
        for (var o = 0; o < outCount; o++)
            for (var i = 0; i < inCount; i++)
                for (var r = 0; r < h; r++)
                    for (var s = 0; s < w; s++)
                        values[((o * inCount + i) * h + r) * w + s] =
                            weight.Values[(((outStart + o) * c + inStart + i) * 3 + rows.First + r) * 3 + columns.First + s];
        return (new WeightTensor([outCount, inCount, h, w], values), [1 - rows.First, 1 - columns.First, rows.Last - 1, columns.Last - 1]);
    }

    /// <summary>
    /// For output phase p (of 2k) and tap t: upsampled row 2k i + p + t - 1 is X row k i + u with
    /// u = floor((p + t - 1) / 2) in [-1, k], i.e. plane u mod k at offset floor(u / k) (tap index + 1).
    /// </summary>
    private static (int Plane, int Tap) Source(int p, int t, int k)
    {
        var u = (p + t + 1) / 2 - 1; // p + t - 1 >= -1, so this is the floor
        return ((u + k) % k, (u + k) / k);
    }
}
