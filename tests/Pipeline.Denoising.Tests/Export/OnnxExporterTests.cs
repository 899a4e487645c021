using Pipeline.Denoising.Architectures;
using Pipeline.Denoising.Export;
using Pipeline.Denoising.Inference;

namespace Pipeline.Denoising.Tests.Export;

/// <summary>
/// Exported graphs run in ONNX Runtime with hand-chosen weights whose output is derivable by hand.
/// (Agreement with the TorchSharp networks for random weights is tested in the Training tests.)
/// </summary>
public sealed class OnnxExporterTests
{
    /// <summary>Weights whose every 3x3 kernel is zero except the centre tap of (out 0, in 0).</summary>
    private static Dictionary<string, WeightTensor> CentreTapWeights(ArchitectureSpec spec, float tap, float lastBias = 0)
    {
        var weights = new Dictionary<string, WeightTensor>();
        var layers = spec.Layers();
        foreach (var layer in layers)
        {
            var w = new float[layer.OutChannels * layer.InChannels * 9];
            w[4] = tap;
            weights[layer.Name + ".weight"] = new WeightTensor([layer.OutChannels, layer.InChannels, 3, 3], w);
            var b = new float[layer.OutChannels];
            if (layer == layers[^1])
                b[0] = lastBias;
            weights[layer.Name + ".bias"] = new WeightTensor([layer.OutChannels], b);
        }
        return weights;
    }

    private static float[] Run(ArchitectureSpec spec, IReadOnlyDictionary<string, WeightTensor> weights, float[] input, int batch, int h, int w)
    {
        using var engine = new OnnxRuntimeEngine(OnnxExporter.Export(spec, weights), spec, new EngineOptions { Threads = 1, Device = DevicePreference.Cpu });
        var output = new float[batch * h * w];
        engine.Run(input, output, batch, h, w);
        return output;
    }

    private static float[] Ramp(int n, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
    }

    [Fact]
    public void Cdae_with_identity_kernels_outputs_the_positive_maximum_of_each_4x4_block()
    {
        // relu -> pool -> relu -> pool -> up -> up: every pixel becomes max(0, max of its 4x4 block).
        var spec = ArchitectureSpec.GondaraCdae(OutputActivation.Linear) with { Width = 1 };
        const int h = 8, w = 12;
        var x = Ramp(2 * h * w, 1);

        var y = Run(spec, CentreTapWeights(spec, 1), x, 2, h, w);

        for (var b = 0; b < 2; b++)
            for (var i = 0; i < h; i++)
                for (var j = 0; j < w; j++)
                {
                    var expected = 0f;
                    for (var di = 0; di < 4; di++)
                        for (var dj = 0; dj < 4; dj++)
                            expected = Math.Max(expected, x[b * h * w + (i / 4 * 4 + di) * w + j / 4 * 4 + dj]);
                    Assert.Equal(expected, y[b * h * w + i * w + j], 6);
                }
    }

    [Fact]
    public void Cdae_sigmoid_output_of_zero_weights_is_the_logistic_of_the_last_bias()
    {
        var spec = ArchitectureSpec.GondaraCdae(OutputActivation.Sigmoid);
        var y = Run(spec, CentreTapWeights(spec, 0, lastBias: 0.5f), Ramp(16 * 16, 2), 1, 16, 16);
        Assert.All(y, v => Assert.Equal(1 / (1 + Math.Exp(-0.5)), v, 6));
    }

    [Fact]
    public void Residual_network_subtracts_the_predicted_noise_from_the_centre_slice()
    {
        // 2.5D with 2 neighbours a side: the centre is channel 2. Zero kernels, last bias 0.25:
        // predicted noise is 0.25 everywhere, output = centre - 0.25. Any height/width (multiple 1).
        var spec = ArchitectureSpec.ResidualDenoiser(depth: 3, width: 5, contextSlices: 2);
        const int batch = 3, h = 7, w = 9, c = 5;
        var x = Ramp(batch * c * h * w, 3);

        var y = Run(spec, CentreTapWeights(spec, 0, lastBias: 0.25f), x, batch, h, w);

        for (var b = 0; b < batch; b++)
            for (var p = 0; p < h * w; p++)
                Assert.Equal(x[(b * c + 2) * h * w + p] - 0.25f, y[b * h * w + p], 6);
    }

    [Fact]
    public void UNet_concatenates_upsampled_features_before_the_skip_and_subtracts_the_predicted_noise()
    {
        // Two levels. Identity centre taps on channel 0 carry relu(x) down the encoder (skip = relu(x)),
        // through a 2x2 max pool to the bottleneck (P = max(0, max of the 2x2 block)), back up by nearest x2.
        // The decoder's first convolution reads [up(P) (32 channels), skip (16)]: a second tap on input
        // channel 32 adds the skip, so the predicted noise is up(P) + relu(x) and the output x - noise.
        var spec = ArchitectureSpec.UNetDenoiser(levels: 2, width: 16);
        var weights = CentreTapWeights(spec, 1);
        var decoder = spec.Layers()[4];
        Assert.Equal((48, 16), (decoder.InChannels, decoder.OutChannels));
        weights[decoder.Name + ".weight"].Values[32 * 9 + 4] = 1;
        const int h = 6, w = 10;
        var x = Ramp(h * w, 4);

        var y = Run(spec, weights, x, 1, h, w);

        for (var i = 0; i < h; i++)
            for (var j = 0; j < w; j++)
            {
                var block = 0f;
                for (var di = 0; di < 2; di++)
                    for (var dj = 0; dj < 2; dj++)
                        block = Math.Max(block, x[(i / 2 * 2 + di) * w + j / 2 * 2 + dj]);
                var v = x[i * w + j];
                Assert.Equal(v - (block + Math.Max(v, 0)), y[i * w + j], 6);
            }
    }

    [Fact]
    public void A_network_that_predicts_the_image_outputs_its_prediction()
    {
        // Zero kernels, last bias 0.25: the prediction is 0.25 everywhere; residual would give x - 0.25.
        var spec = ArchitectureSpec.UNetDenoiser(levels: 2, width: 16, contextSlices: 1, predictsImage: true);
        var y = Run(spec, CentreTapWeights(spec, 0, lastBias: 0.25f), Ramp(3 * 4 * 6, 5), 1, 4, 6);
        Assert.All(y, v => Assert.Equal(0.25f, v, 6));
    }

    [Fact]
    public void UNet_multiply_accumulates_count_each_level_at_its_resolution()
    {
        // 1->16, 16->16 at full size; 16->32, 32->32 at 1/4 area; 48->16, 16->16, 16->1 at full size.
        var macs = 9.0 * (16 + 256 + (512 + 1024) / 4.0 + 768 + 256 + 16);
        Assert.Equal(macs, ArchitectureSpec.UNetDenoiser(levels: 2, width: 16).MacsPerPixel(), 6);
        Assert.Equal(2, ArchitectureSpec.UNetDenoiser(levels: 2, width: 16).SizeMultiple);
        Assert.Equal(8, ArchitectureSpec.UNetDenoiser(levels: 4, width: 16).SizeMultiple);
        Assert.Throws<ArgumentException>(() => ArchitectureSpec.UNetDenoiser(levels: 2, width: 8).Validate());
    }

    [Fact]
    public void Batch_height_and_width_are_dynamic_in_one_session()
    {
        var spec = ArchitectureSpec.ResidualDenoiser(depth: 2, width: 2);
        using var engine = new OnnxRuntimeEngine(OnnxExporter.Export(spec, CentreTapWeights(spec, 0)), spec,
            new EngineOptions { Threads = 1, Device = DevicePreference.Cpu });
        foreach (var (b, h, w) in new[] { (1, 4, 4), (5, 33, 17), (2, 64, 128) })
        {
            var x = Ramp(b * h * w, h);
            var y = new float[b * h * w];
            engine.Run(x, y, b, h, w);
            Assert.Equal(x, y);
        }
    }

    [Fact]
    public void Missing_or_misshapen_weights_are_refused_by_name()
    {
        var spec = ArchitectureSpec.GondaraCdae();
        var weights = CentreTapWeights(spec, 1);
        weights.Remove("dec2.bias");
        Assert.Contains("dec2.bias", Assert.Throws<ArgumentException>(() => OnnxExporter.Export(spec, weights)).Message);

        weights = CentreTapWeights(spec, 1);
        weights["enc1.weight"] = new WeightTensor([64, 3, 3, 3], new float[64 * 27]);
        Assert.Contains("enc1.weight", Assert.Throws<ArgumentException>(() => OnnxExporter.Export(spec, weights)).Message);
    }

    [Fact]
    public void Forcing_cuda_on_a_cpu_build_fails_with_the_reason_while_auto_falls_back_to_cpu()
    {
        var spec = ArchitectureSpec.ResidualDenoiser(depth: 2, width: 2);
        var model = OnnxExporter.Export(spec, CentreTapWeights(spec, 0));
        using (var auto = new OnnxRuntimeEngine(model, spec, new EngineOptions { Threads = 1 }))
            Assert.StartsWith("cpu", auto.Device);
        var e = Assert.Throws<InvalidOperationException>(() => new OnnxRuntimeEngine(model, spec, new EngineOptions { Device = DevicePreference.Cuda }));
        Assert.Contains("CUDA", e.Message);
    }
}
