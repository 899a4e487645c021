using Pipeline.Denoising.Architectures;
using Pipeline.Denoising.Training.Networks;
using TorchSharp;
using static TorchSharp.torch;

namespace Pipeline.Denoising.Training.Tests;

/// <summary>
/// The cdae computes its decoder on phase planes at the low resolution (tap sums of the 3x3 kernels, shared with
/// the ONNX export): in float64 its output and every gradient must equal Gondara's definition (nearest x2
/// upsampling, then 3x3 convolutions). A wrong tap map, crop or phase order fails here, and the export,
/// which uses the same tap map, is held to this forward by the engine parity tests.
/// </summary>
public sealed class CdaeDefinitionTests
{
    public static TheoryData<string> Variants => new() { "sigmoid", "linear", "2.5d" };

    [Theory]
    [MemberData(nameof(Variants))]
    public void The_phase_plane_decoder_equals_upsample_then_convolve(string variant)
    {
        var spec = variant switch
        {
            "sigmoid" => ArchitectureSpec.GondaraCdae(OutputActivation.Sigmoid),
            "linear" => ArchitectureSpec.GondaraCdae(OutputActivation.Linear),
            _ => ArchitectureSpec.GondaraCdae(OutputActivation.Linear, contextSlices: 1),
        };
        manual_seed(3);
        using var scope = NewDisposeScope();
        var network = DenoisingNetwork.Create(spec);
        network.to(ScalarType.Float64);
        // 40x56: not square, so a swapped row/column phase shows.
        var x = rand(2, spec.InChannels, 40, 56, ScalarType.Float64);
        var g = randn(2, 1, 40, 56, ScalarType.Float64);

        var actual = network.forward(x);
        var actualGradients = Gradients(network, actual, g);
        var expected = Definition(network, x, spec.Output == OutputActivation.Sigmoid);
        var expectedGradients = Gradients(network, expected, g);

        Assert.True((actual - expected).abs().max().item<double>() <= 1e-12, variant);
        foreach (var (name, e) in expectedGradients)
        {
            var worst = (actualGradients[name] - e).abs().max().item<double>();
            Assert.True(worst <= 1e-10 * e.abs().max().item<double>(), $"{variant} {name}: {worst:G3}");
        }
    }

    private static Tensor Definition(DenoisingNetwork network, Tensor x, bool sigmoid)
    {
        var p = network.named_parameters().ToDictionary(n => n.name, n => (Tensor)n.parameter);
        Tensor Conv(string layer, Tensor t) => nn.functional.conv2d(t, p[layer + ".weight"], p[layer + ".bias"], padding: [1, 1]);
        Tensor Up(Tensor t) => nn.functional.interpolate(t, scale_factor: [2.0, 2.0], mode: InterpolationMode.Nearest);
        var y = nn.functional.max_pool2d(nn.functional.relu(Conv("enc1", x)), 2);
        y = nn.functional.max_pool2d(nn.functional.relu(Conv("enc2", y)), 2);
        y = Up(nn.functional.relu(Conv("dec1", y)));
        y = Up(nn.functional.relu(Conv("dec2", y)));
        y = Conv("output", y);
        return sigmoid ? torch.sigmoid(y) : y;
    }

    private static Dictionary<string, Tensor> Gradients(DenoisingNetwork network, Tensor output, Tensor g)
    {
        network.zero_grad();
        output.backward([g]);
        return network.named_parameters().ToDictionary(n => n.name, n => n.parameter.grad!.clone());
    }
}
