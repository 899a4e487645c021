using Pipeline.Denoising.Architectures;
using Pipeline.Denoising.Export;
using TorchSharp;
using TorchSharp.Modules;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace Pipeline.Denoising.Training.Networks;

/// <summary>
/// A TorchSharp denoising network built from an <see cref="ArchitectureSpec"/>: [N, 2k+1, H, W] in,
/// [N, 1, H, W] out. State-dict keys are the spec's layer names (fields registered by name).
/// </summary>
public abstract class DenoisingNetwork(string name, ArchitectureSpec spec) : nn.Module<Tensor, Tensor>(name)
{
    public ArchitectureSpec Spec { get; } = spec;

    /// <summary>Builds the network named by the spec, with weights drawn from torch's seeded generator.</summary>
    public static DenoisingNetwork Create(ArchitectureSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        spec.Validate();
        return spec.Name == ArchitectureSpec.Cdae ? new Cdae(spec) : new ResidualDenoiser(spec);
    }

    /// <summary>Loads a network from a safetensors state dict (PyTorch-compatible via PyBridge).</summary>
    public static DenoisingNetwork Load(ArchitectureSpec spec, string safetensorsPath)
    {
        var network = Create(spec);
        network.load_safetensors(safetensorsPath, strict: true);
        return network;
    }

    public void SaveSafetensors(string path) => this.save_safetensors(path);

    /// <summary>Copies the parameters out as plain arrays (for the ONNX exporter).</summary>
    public IReadOnlyDictionary<string, WeightTensor> Weights()
    {
        var weights = new Dictionary<string, WeightTensor>(StringComparer.Ordinal);
        foreach (var (key, tensor) in state_dict())
        {
            using var cpu = tensor.detach().cpu().contiguous();
            weights[key] = new WeightTensor(cpu.shape, cpu.data<float>().ToArray());
        }
        return weights;
    }

    public long ParameterCount() => parameters().Sum(p => p.numel());

    protected static Conv2d Conv(ConvLayer layer) =>
        nn.Conv2d(layer.InChannels, layer.OutChannels, kernel_size: 3, padding: 1);
}

/// <summary>Gondara 2016 convolutional denoising autoencoder (two 2x2 poolings, two nearest x2 upsamplings).</summary>
internal sealed class Cdae : DenoisingNetwork
{
    // Field names are the state-dict keys (RegisterComponents): enc1, enc2, dec1, dec2, output.
    private readonly Conv2d enc1;
    private readonly Conv2d enc2;
    private readonly Conv2d dec1;
    private readonly Conv2d dec2;
    private readonly Conv2d output;

    public Cdae(ArchitectureSpec spec) : base(nameof(Cdae), spec)
    {
        var layers = spec.Layers();
        enc1 = Conv(layers[0]);
        enc2 = Conv(layers[1]);
        dec1 = Conv(layers[2]);
        dec2 = Conv(layers[3]);
        output = Conv(layers[4]);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var x = nn.functional.max_pool2d(nn.functional.relu(enc1.forward(input)), 2);
        x = nn.functional.max_pool2d(nn.functional.relu(enc2.forward(x)), 2);
        x = Upsample(nn.functional.relu(dec1.forward(x)));
        x = Upsample(nn.functional.relu(dec2.forward(x)));
        x = output.forward(x);
        if (Spec.Output == OutputActivation.Sigmoid)
            x = sigmoid(x);
        return x.MoveToOuterDisposeScope();
    }

    private static Tensor Upsample(Tensor x) =>
        nn.functional.interpolate(x, scale_factor: [2.0, 2.0], mode: InterpolationMode.Nearest);
}

/// <summary>DnCNN-style residual denoiser: 3x3 conv + ReLU stack predicts the noise; output = centre slice - noise.</summary>
internal sealed class ResidualDenoiser : DenoisingNetwork
{
    private readonly ModuleList<Conv2d> body;

    public ResidualDenoiser(ArchitectureSpec spec) : base(nameof(ResidualDenoiser), spec)
    {
        body = nn.ModuleList(spec.Layers().Select(Conv).ToArray());
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var x = input;
        for (var i = 0; i < body.Count; i++)
        {
            x = body[i].forward(x);
            if (i < body.Count - 1)
                x = nn.functional.relu(x);
        }
        var centre = Spec.ContextSlices == 0 ? input : input.narrow(1, Spec.ContextSlices, 1);
        return (centre - x).MoveToOuterDisposeScope();
    }
}
