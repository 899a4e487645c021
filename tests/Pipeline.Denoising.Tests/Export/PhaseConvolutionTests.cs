using Pipeline.Denoising.Export;

namespace Pipeline.Denoising.Tests.Export;

/// <summary>
/// The exporter's low-resolution form of "3x3 convolution of a nearest x2 upsampling" against the definition,
/// with plain loops (no ONNX Runtime): both splits, non-square images, asymmetric random kernels.
/// </summary>
public sealed class PhaseConvolutionTests
{
    private const int In = 3, Out = 2;

    private static float[] Random(int n, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
    }

    /// <summary>Zero-padded convolution of x [c, h, w]; pads [top, left, bottom, right].</summary>
    private static float[] Convolve(float[] x, int h, int w, WeightTensor weight, float[]? bias, long[] pads, out int oh, out int ow)
    {
        int m = (int)weight.Shape[0], c = (int)weight.Shape[1], kh = (int)weight.Shape[2], kw = (int)weight.Shape[3];
        oh = h + (int)(pads[0] + pads[2]) - kh + 1;
        ow = w + (int)(pads[1] + pads[3]) - kw + 1;
        var y = new float[m * oh * ow];
        for (var o = 0; o < m; o++)
            for (var i = 0; i < oh; i++)
                for (var j = 0; j < ow; j++)
                {
                    double sum = bias?[o] ?? 0;
                    for (var ch = 0; ch < c; ch++)
                        for (var r = 0; r < kh; r++)
                            for (var s = 0; s < kw; s++)
                            {
                                int yi = i + r - (int)pads[0], xj = j + s - (int)pads[1];
                                if (yi >= 0 && yi < h && xj >= 0 && xj < w)
                                    sum += weight.Values[((o * c + ch) * kh + r) * kw + s] * x[(ch * h + yi) * w + xj];
                            }
                    y[(o * oh + i) * ow + j] = (float)sum;
                }
        return y;
    }

    /// <summary>Equal up to float rounding of the summed taps (values are of order 1).</summary>
    private static void Close(float expected, float actual) =>
        Assert.True(Math.Abs(expected - actual) <= 1e-5, $"expected {expected}, got {actual}");

    private static float[] Upsample2(float[] x, int c, int h, int w)
    {
        var y = new float[c * 4 * h * w];
        for (var ch = 0; ch < c; ch++)
            for (var i = 0; i < 2 * h; i++)
                for (var j = 0; j < 2 * w; j++)
                    y[(ch * 2 * h + i) * 2 * w + j] = x[(ch * h + i / 2) * w + j / 2];
        return y;
    }

    private static (WeightTensor Weight, WeightTensor Bias) Layer(int seed) =>
        (new WeightTensor([Out, In, 3, 3], Random(Out * In * 9, seed)), new WeightTensor([Out], Random(Out, seed + 1)));

    [Fact]
    public void Four_2x2_convolutions_of_the_image_are_the_phases_of_the_convolved_upsampling()
    {
        const int h = 5, w = 7;
        var (weight, bias) = Layer(1);
        var x = Random(In * h * w, 3);
        var expected = Convolve(Upsample2(x, In, h, w), 2 * h, 2 * w, weight, bias.Values, [1, 1, 1, 1], out _, out _);

        var kernel = PhaseConvolution.UpsampledKernel(weight, bias, 1);
        var phases = PhaseConvolution.SplitByOutputPhase(kernel.Weight, kernel.Bias).ToList();

        Assert.Equal(4, phases.Count);
        for (var a = 0; a < 2; a++)
            for (var b = 0; b < 2; b++)
            {
                var (pw, pb, pads) = phases[a * 2 + b];
                Assert.Equal([Out, In, 2, 2], pw.Shape);
                var y = Convolve(x, h, w, pw, pb.Values, pads, out var oh, out var ow);
                Assert.Equal((h, w), (oh, ow));
                for (var o = 0; o < Out; o++)
                    for (var i = 0; i < h; i++)
                        for (var j = 0; j < w; j++)
                            Close(expected[(o * 2 * h + 2 * i + a) * 2 * w + 2 * j + b], y[(o * h + i) * w + j]);
            }
    }

    [Fact]
    public void Summed_2x2_convolutions_of_2x2_phase_planes_are_the_4x4_phases_of_the_convolved_upsampling()
    {
        const int h = 3, w = 4; // the image is 6x8, held as four 3x4 planes
        var (weight, bias) = Layer(5);
        var image = Random(In * 2 * h * 2 * w, 7);
        var expected = Convolve(Upsample2(image, In, 2 * h, 2 * w), 4 * h, 4 * w, weight, bias.Values, [1, 1, 1, 1], out _, out _);

        var kernel = PhaseConvolution.UpsampledKernel(weight, bias, 2);
        var parts = PhaseConvolution.SplitByInputPlane(kernel.Weight, 2).ToList();

        Assert.Equal(4, parts.Count);
        var sum = new float[16 * Out * h * w];
        for (var p = 0; p < 2; p++)
            for (var q = 0; q < 2; q++)
            {
                var plane = new float[In * h * w];
                for (var ch = 0; ch < In; ch++)
                    for (var i = 0; i < h; i++)
                        for (var j = 0; j < w; j++)
                            plane[(ch * h + i) * w + j] = image[(ch * 2 * h + 2 * i + p) * 2 * w + 2 * j + q];
                var (pw, pads) = parts[p * 2 + q];
                Assert.Equal([16 * Out, In, 2, 2], pw.Shape);
                var y = Convolve(plane, h, w, pw, null, pads, out var oh, out var ow);
                Assert.Equal((h, w), (oh, ow));
                for (var n = 0; n < sum.Length; n++)
                    sum[n] += y[n];
            }
        for (var phaseRow = 0; phaseRow < 4; phaseRow++)
            for (var phaseColumn = 0; phaseColumn < 4; phaseColumn++)
                for (var o = 0; o < Out; o++)
                {
                    var channel = (phaseRow * 4 + phaseColumn) * Out + o;
                    for (var i = 0; i < h; i++)
                        for (var j = 0; j < w; j++)
                            Close(expected[(o * 4 * h + 4 * i + phaseRow) * 4 * w + 4 * j + phaseColumn],
                                sum[(channel * h + i) * w + j] + kernel.Bias.Values[channel]);
                }
    }
}
