namespace Pipeline.Denoising.Export;

/// <summary>
/// Exact rewrites of "3x3 convolution (pad 1) of a nearest x2 upsampled image" as convolutions at the
/// low resolution. An image X of size (k h, k w) is held as k x k phase planes [k^2 c, h, w], plane
/// (p, q) holding X[k i + p, k j + q] at channel (p k + q) c + channel, which is DepthToSpace's DCR
/// order. Every output pixel of the convolution of Up2(X) reads a 3x3 neighbourhood of the planes, so
/// the layer becomes one 3x3 convolution from k^2 c to (2k)^2 m channels whose taps are sums of the
/// original ones. ONNX Runtime then never makes the 4x larger upsampled tensor, and a 1-channel output
/// layer gets (2k)^2 output channels instead of 1 padded to its SIMD block (on the cdae at 256x256 that
/// layer took 24 % of the run for 2.6 % of the multiply-adds). Same results up to float rounding.
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
                var w = new float[m * c * 4];
                for (var o = 0; o < m; o++)
                    for (var i = 0; i < c; i++)
                        for (var r = 0; r < 2; r++)
                            for (var s = 0; s < 2; s++)
                                w[((o * c + i) * 2 + r) * 2 + s] = weight.Values[(((phase * m + o) * c + i) * 3 + r + a) * 3 + s + b];
                yield return (new WeightTensor([m, c, 2, 2], w), new WeightTensor([m], bias.Values.AsSpan(phase * m, m).ToArray()),
                    [1 - a, 1 - b, a, b]);
            }
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
