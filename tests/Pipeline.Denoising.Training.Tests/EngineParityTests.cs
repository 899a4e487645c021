using Pipeline.Denoising.Architectures;
using Pipeline.Denoising.Export;
using Pipeline.Denoising.Inference;
using Pipeline.Denoising.Training.Inference;
using Pipeline.Denoising.Training.Networks;
using TorchSharp;

namespace Pipeline.Denoising.Training.Tests;

/// <summary>Our ONNX export and ONNX Runtime against libtorch running the same weights.</summary>
public sealed class EngineParityTests
{
    public static TheoryData<string> Architectures => new() { "cdae-sigmoid", "cdae-linear", "cdae-2.5d", "dncnn", "dncnn-2.5d", "unet", "unet-2.5d", "unet-image" };

    internal static ArchitectureSpec Spec(string name) => name switch
    {
        "cdae-sigmoid" => ArchitectureSpec.GondaraCdae(OutputActivation.Sigmoid),
        "cdae-linear" => ArchitectureSpec.GondaraCdae(OutputActivation.Linear),
        "cdae-2.5d" => ArchitectureSpec.GondaraCdae(OutputActivation.Linear, contextSlices: 1),
        "dncnn" => ArchitectureSpec.ResidualDenoiser(depth: 5, width: 16),
        "dncnn-2.5d" => ArchitectureSpec.ResidualDenoiser(depth: 4, width: 16, contextSlices: 2),
        "unet" => ArchitectureSpec.UNetDenoiser(levels: 3, width: 16),
        "unet-2.5d" => ArchitectureSpec.UNetDenoiser(levels: 4, width: 16, contextSlices: 1),
        "unet-image" => ArchitectureSpec.UNetDenoiser(levels: 3, width: 16, contextSlices: 1, predictsImage: true),
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    private static float[][] Slices(int count, int h, int w, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count)
            .Select(_ => Enumerable.Range(0, h * w).Select(_ => (float)(random.NextDouble() * 1.2 - 0.1)).ToArray()).ToArray();
    }

    [Theory]
    [MemberData(nameof(Architectures))]
    public void Onnx_runtime_and_torchsharp_agree_within_1e_4_through_padding_and_tiling(string name)
    {
        var spec = Spec(name);
        torch.manual_seed(7);
        var network = DenoisingNetwork.Create(spec);
        var onnx = OnnxExporter.Export(spec, network.Weights());
        var options = new EngineOptions { Threads = 2, Device = DevicePreference.Cpu };
        using var ort = new OnnxRuntimeEngine(onnx, spec, options);
        using var ts = new TorchSharpEngine(network, options);
        // 70x90 with 48-pixel tiles: odd sizes, reflection padding and overlapping tiles on both engines.
        var tiling = new TilingOptions { TileSize = 48, Overlap = 8, BatchSize = 4 };
        var slices = Slices(3, 70, 90, seed: 11);

        var a = new SliceDenoiser(ort, tiling).Denoise(slices, 70, 90);
        var b = new SliceDenoiser(ts, tiling).Denoise(slices, 70, 90);

        var maxDiff = a.Zip(b).SelectMany(p => p.First.Zip(p.Second, (x, y) => Math.Abs(x - y))).Max();
        Assert.True(maxDiff <= 1e-4, $"max |ORT - TorchSharp| = {maxDiff}");
        // Not vacuous: the untrained network changes the image.
        Assert.True(a[0].Zip(slices[0], (x, y) => Math.Abs(x - y)).Max() > 1e-3);
    }

    [Fact]
    public void The_bundled_default_model_loads_verified_and_both_engines_agree_within_1e_4()
    {
        var model = Pipeline.Denoising.Models.ModelFolder.Load(Pipeline.Denoising.Models.DenoisingModel.DefaultFolder);
        var spec = model.Manifest.Architecture;
        var options = new EngineOptions { Threads = 2, Device = DevicePreference.Cpu };
        using var ort = new OnnxRuntimeEngine(model.Onnx, spec, options);
        using var ts = TorchSharpEngine.Load(spec, model.WeightsPath, options);
        var slices = Slices(3, 60, 52, seed: 5);

        var a = new SliceDenoiser(ort).Denoise(slices, 60, 52);
        var b = new SliceDenoiser(ts).Denoise(slices, 60, 52);

        var maxDiff = a.Zip(b).SelectMany(p => p.First.Zip(p.Second, (x, y) => Math.Abs(x - y))).Max();
        Assert.True(maxDiff <= 1e-4, $"max |ORT - TorchSharp| = {maxDiff}");
    }

    [Fact]
    public void Safetensors_written_by_pybridge_read_back_identically_without_libtorch()
    {
        torch.manual_seed(3);
        var network = DenoisingNetwork.Create(Spec("dncnn-2.5d"));
        var path = Path.Combine(Path.GetTempPath(), $"weights-{Guid.NewGuid():N}.safetensors");
        try
        {
            network.SaveSafetensors(path);
            var read = Safetensors.Read(path);
            var expected = network.Weights();
            Assert.Equal(expected.Keys.Order(), read.Keys.Order());
            foreach (var (key, tensor) in expected)
            {
                Assert.Equal(tensor.Shape, read[key].Shape);
                Assert.Equal(tensor.Values, read[key].Values);
            }
            var reloaded = DenoisingNetwork.Load(network.Spec, path);
            Assert.Equal(expected["body.0.weight"].Values, reloaded.Weights()["body.0.weight"].Values);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void State_dict_keys_are_the_layer_names_of_the_spec()
    {
        foreach (var name in new[] { "cdae-linear", "dncnn" })
        {
            var spec = Spec(name);
            var expected = spec.Layers().SelectMany(l => new[] { l.Name + ".weight", l.Name + ".bias" }).Order();
            Assert.Equal(expected, DenoisingNetwork.Create(spec).Weights().Keys.Order());
        }
        // Gondara's cdae: 1->64, 64->64 x3, 64->1, 3x3 kernels with biases.
        Assert.Equal(9 * 64 + 64 + 3 * (9 * 64 * 64 + 64) + 9 * 64 + 1, DenoisingNetwork.Create(Spec("cdae-sigmoid")).ParameterCount());
    }
}
