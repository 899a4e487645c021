using Pipeline.Denoising.Training.Inference;
using Pipeline.Denoising.Training.Training;
using static TorchSharp.torch;

namespace Pipeline.Denoising.Training.Tests;

/// <summary>
/// The cause of the intermittent NaN training runs: libtorch 2.10's oneDNN float32 convolution backward
/// is wrong for a 1-output-channel layer (and reads channel padding it never initialised: NaN when the
/// recycled memory held a NaN pattern). Training must run on convolutions whose gradients are exact.
/// </summary>
public sealed class ConvolutionGradientTests
{
    [Fact]
    public void After_the_trainer_starts_a_one_channel_convolution_has_the_input_gradient_of_its_definition()
    {
        _ = new Trainer(TrainerTests.Tiny(steps: 1), [TrainerTests.Phantom("a", 3, 1)], [TrainerTests.Phantom("b", 2, 2)]).Train();
        Assert.False(LibTorchConvolutions.OneDnnEnabled());

        manual_seed(7);
        using var scope = NewDisposeScope();
        var conv = nn.Conv2d(16, 1, 3, padding: 1);
        var x = randn(8, 16, 32, 32).requires_grad_(true);
        var g = randn(8, 1, 32, 32);
        conv.forward(x).backward([g]);

        // Measured with oneDNN on (this machine, AVX-512): differences up to 0.61 on values of about 0.2.
        var expected = InputGradient(g.data<float>().ToArray(), conv.weight!.detach().data<float>().ToArray(), 8, 16, 32);
        var actual = x.grad!.data<float>().ToArray();
        for (var i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(actual[i] - expected[i]) <= 1e-5, $"element {i}: {actual[i]} vs {expected[i]}");
    }

    /// <summary>dL/dx of a 3x3, padding 1, 1-output-channel convolution by its definition, in double (no libtorch).</summary>
    private static double[] InputGradient(float[] g, float[] w, int n, int c, int size)
    {
        var dx = new double[n * c * size * size];
        for (var b = 0; b < n; b++)
            for (var ch = 0; ch < c; ch++)
                for (var yy = 0; yy < size; yy++)
                    for (var xx = 0; xx < size; xx++)
                    {
                        double sum = 0;
                        // y[oy, ox] = sum over (ky, kx) of w[ky, kx] * x[oy + ky - 1, ox + kx - 1] (+ bias).
                        for (var ky = 0; ky < 3; ky++)
                            for (var kx = 0; kx < 3; kx++)
                            {
                                int oy = yy - ky + 1, ox = xx - kx + 1;
                                if (oy >= 0 && oy < size && ox >= 0 && ox < size)
                                    sum += (double)g[(b * size + oy) * size + ox] * w[(ch * 3 + ky) * 3 + kx];
                            }
                        dx[((b * c + ch) * size + yy) * size + xx] = sum;
                    }
        return dx;
    }
}
