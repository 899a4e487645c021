using Pipeline.Denoising.Architectures;
using Pipeline.Denoising.Training.Inference;
using Pipeline.Denoising.Training.Networks;
using Pipeline.Denoising.Training.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Pipeline.Denoising.Training.Tests;

/// <summary>
/// The cause of the intermittent NaN training runs: libtorch 2.10's oneDNN float32 convolution backward
/// is wrong for a 1-output-channel layer (and reads channel padding it never initialised: NaN when the
/// recycled memory held a NaN pattern; seen on AVX-512, not on AVX2). Training keeps oneDNN (10-17x faster)
/// for block-aligned layers and computes the others as a matrix product + col2im; these tests check the
/// gradients training actually gets against the definition and against float64 (which stays on ATen).
/// </summary>
public sealed class ConvolutionGradientTests
{
    [Fact]
    public void A_one_channel_convolution_under_gradients_has_the_input_gradient_of_its_definition()
    {
        Assert.True(LibTorchConvolutions.OneDnnEnabled());
        manual_seed(7);
        using var scope = NewDisposeScope();
        var conv = nn.Conv2d(16, 1, 3, padding: 1);
        var x = randn(8, 16, 32, 32).requires_grad_(true);
        var g = randn(8, 1, 32, 32);
        DenoisingNetwork.Convolve(conv, x).backward([g]);

        // Measured with a plain oneDNN convolution (this machine, AVX-512): differences up to 0.61 on values of about 0.2.
        var expected = InputGradient(g.data<float>().ToArray(), conv.weight!.detach().data<float>().ToArray(), 8, 16, 32);
        var actual = x.grad!.data<float>().ToArray();
        for (var i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(actual[i] - expected[i]) <= 1e-5, $"element {i}: {actual[i]} vs {expected[i]}");
    }

    public static TheoryData<string> Architectures => new() { "cdae", "cdae-2.5d", "dncnn-2.5d", "dncnn-w8", "unet", "unet-2.5d" };

    /// <summary>
    /// The output (without gradients, as at inference) and every parameter's gradient in float32 (oneDNN)
    /// against float64, which libtorch computes with its own ATen kernels (oneDNN has no float64
    /// convolution): an independent reference for the same network. Width 8 is not a multiple of
    /// oneDNN's block: measured with plain convolutions, its forward was off by 2e-3.
    /// </summary>
    [Theory]
    [MemberData(nameof(Architectures))]
    public void Every_layer_gets_the_gradient_of_a_float64_reference(string name)
    {
        Assert.True(LibTorchConvolutions.OneDnnEnabled());
        var spec = name switch
        {
            "cdae" => ArchitectureSpec.GondaraCdae(OutputActivation.Linear),
            "cdae-2.5d" => ArchitectureSpec.GondaraCdae(OutputActivation.Linear, contextSlices: 1),
            "dncnn-2.5d" => ArchitectureSpec.ResidualDenoiser(depth: 4, width: 32, contextSlices: 1),
            "dncnn-w8" => ArchitectureSpec.ResidualDenoiser(depth: 4, width: 8),
            "unet" => ArchitectureSpec.UNetDenoiser(levels: 3, width: 16),
            "unet-2.5d" => ArchitectureSpec.UNetDenoiser(levels: 4, width: 16, contextSlices: 1),
            _ => throw new ArgumentOutOfRangeException(nameof(name)),
        };
        manual_seed(11);
        using var scope = NewDisposeScope();
        var network = DenoisingNetwork.Create(spec);
        var x = rand(6, spec.InChannels, 48, 48);
        var g = randn(6, 1, 48, 48);

        var single = Gradients(network, x, g);
        single["output"] = Output(network, x);
        network.to(ScalarType.Float64);
        var reference = Gradients(network, x.to(ScalarType.Float64), g.to(ScalarType.Float64));
        reference["output"] = Output(network, x.to(ScalarType.Float64));

        foreach (var (parameter, expected) in reference)
        {
            var actual = single[parameter];
            var scale = expected.Max(Math.Abs);
            var worst = actual.Zip(expected, (a, e) => Math.Abs(a - e)).Max();
            Assert.True(worst <= 1e-4 * scale + 1e-7, $"{name} {parameter}: max |float32 - float64| {worst:G3} (largest gradient {scale:G3})");
        }
    }

    /// <summary>The SSIM loss term blurs with a 1-output-channel Gaussian window: the same oneDNN trap (it made a run NaN).</summary>
    [Fact]
    public void The_ssim_loss_gets_the_gradient_of_a_float64_reference()
    {
        Assert.True(LibTorchConvolutions.OneDnnEnabled());
        manual_seed(5);
        using var scope = NewDisposeScope();
        var target = rand(6, 1, 40, 40);
        var output = (target + 0.1 * randn(6, 1, 40, 40)).detach();
        double[] Gradient(ScalarType type)
        {
            var x = output.to(type).detach().requires_grad_(true);
            (1 - Trainer.Ssim(x, target.to(type), Trainer.GaussianWindow().to(type))).backward();
            return x.grad!.to(ScalarType.Float64).data<double>().ToArray();
        }
        var single = Gradient(ScalarType.Float32);
        var reference = Gradient(ScalarType.Float64);
        var scale = reference.Max(Math.Abs);
        var worst = single.Zip(reference, (a, e) => Math.Abs(a - e)).Max();
        Assert.True(worst <= 1e-3 * scale, $"max |float32 - float64| {worst:G3} (largest gradient {scale:G3})");
    }

    private static double[] Output(DenoisingNetwork network, Tensor x)
    {
        using var _ = no_grad();
        return network.forward(x).to(ScalarType.Float64).data<double>().ToArray();
    }

    private static Dictionary<string, double[]> Gradients(DenoisingNetwork network, Tensor x, Tensor g)
    {
        network.zero_grad();
        network.forward(x).backward([g]);
        return network.named_parameters().ToDictionary(p => p.name,
            p => p.parameter.grad!.to(ScalarType.Float64).data<double>().ToArray());
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
