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
        return spec.Name switch
        {
            ArchitectureSpec.Cdae => new Cdae(spec),
            ArchitectureSpec.UNet => new UNet(spec),
            _ => new ResidualDenoiser(spec),
        };
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

    /// <summary>oneDNN's vector block (AVX-512): it computes convolutions right whose output channels are multiples of it.</summary>
    private const int OneDnnBlock = 16;

    /// <summary>
    /// A convolution libtorch computes right, and fast. libtorch 2.10's oneDNN float32 convolution is wrong for
    /// output channel counts that are not a multiple of its 16-channel block: the backward for every such
    /// count (our 1-channel output layers; see README "Fixed: NaN training runs") and the forward for
    /// some (8 channels at 48x48: off by 2e-3 against float64). Such a layer runs as a matrix product and
    /// col2im (<see cref="ByMatmul"/>), never through oneDNN; the others run on oneDNN in channels-last
    /// memory, where it reorders no activations and pooling/upsampling use their NHWC kernels.
    /// </summary>
    internal static Tensor Convolve(Conv2d conv, Tensor x) => Convolve(x, conv.weight!, conv.bias, padding: 1);

    /// <summary><see cref="Convolve(Conv2d, Tensor)"/> for a bare kernel (e.g. the SSIM loss's Gaussian window).</summary>
    internal static Tensor Convolve(Tensor x, Tensor weight, Tensor? bias, long padding)
    {
        // Only float32 goes to oneDNN; float64 (the gradient tests' reference) stays on ATen's own convolution.
        if (weight.shape[0] % OneDnnBlock != 0 && x.dtype == ScalarType.Float32)
            return ByMatmul(x, weight, bias, padding);
        return Tensors.ChannelsLast(nn.functional.conv2d(Tensors.ChannelsLast(x), weight, bias, padding: [padding, padding]));
    }

    /// <summary>
    /// An exact convolution from a matrix product and col2im: per pixel z = W_t . x for every output channel and
    /// tap t (one GEMM of m*k*k rows), then fold adds each tap's plane at its shift. Cheaper than padding m to
    /// oneDNN's block (9 instead of 144 multiply-accumulates per input channel and pixel for a 1-channel 3x3 layer).
    /// Fold writes block (h, w)'s tap (i, j) to (h + i - P, w + j - P), a convolution needs the opposite shift:
    /// hence the flipped taps and P = k - 1 - padding.
    /// </summary>
    private static Tensor ByMatmul(Tensor x, Tensor weight, Tensor? bias, long padding)
    {
        var (outChannels, inChannels, k) = (weight.shape[0], weight.shape[1], weight.shape[2]);
        if (weight.shape[3] != k || padding > k - 1)
            throw new ArgumentException("ByMatmul needs a square kernel and padding below its size.");
        var taps = weight.flip(2, 3).permute(0, 2, 3, 1).reshape(outChannels * k * k, inChannels);
        var size = (x.shape[2] + 2 * padding - k + 1, x.shape[3] + 2 * padding - k + 1);
        var y = nn.functional.fold(matmul(taps, x.flatten(2)), size, (k, k), padding: (k - 1 - padding, k - 1 - padding));
        return bias is null ? y : y + bias.reshape(1, outChannels, 1, 1);
    }

    /// <summary>Nearest x2, as the ONNX export's Resize (asymmetric, floor).</summary>
    protected static Tensor Upsample(Tensor x) =>
        nn.functional.interpolate(x, scale_factor: [2.0, 2.0], mode: InterpolationMode.Nearest);

    /// <summary>The output: the centre slice of the input minus the predicted noise, or the predicted image itself.</summary>
    protected Tensor FromPrediction(Tensor input, Tensor prediction) => !Spec.PredictsNoise ? prediction
        : (Spec.ContextSlices == 0 ? input : input.narrow(1, Spec.ContextSlices, 1)) - prediction;
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
        var x = nn.functional.max_pool2d(nn.functional.relu(Convolve(enc1, input)), 2);
        x = nn.functional.max_pool2d(nn.functional.relu(Convolve(enc2, x)), 2);
        x = nn.functional.relu(Convolve(dec1, x));
        // dec2 and output read nearest x2 upsampled images: the exact low-resolution rewrite of the ONNX export
        // (PhaseConvolution), 16 instead of 36 taps per pixel for dec2, no 64-channel tensor at full size.
        x = nn.functional.relu(OutputPhases(dec2, x));
        var (weight, bias) = UpsampledKernel(output, 2);
        x = nn.functional.pixel_shuffle(Convolve(x, weight, bias, padding: 1), 4);
        if (Spec.Output == OutputActivation.Sigmoid)
            x = sigmoid(x);
        return x.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The convolution of Up2(x) as x's resolution 2x2 phase planes [N, 4 m, h, w] (DCR order): each output phase
    /// reads a 2x2 window, so one 2x2 convolution padded by 1 computes all four, each phase cropped at its offset.
    /// </summary>
    private static Tensor OutputPhases(Conv2d conv, Tensor x)
    {
        var (dense, bias) = UpsampledKernel(conv, 1);
        var m = conv.weight!.shape[0];
        // Phase (a, b) reads taps a..a+1 and b..b+1 of its 3x3 kernel; the rest is zero.
        var kernel = cat([.. Enumerable.Range(0, 4).Select(p => dense.narrow(0, p * m, m).narrow(2, p / 2, 2).narrow(3, p % 2, 2))]);
        var y = Convolve(x, kernel, bias, padding: 1);
        var (h, w) = (x.shape[2], x.shape[3]);
        return cat([.. Enumerable.Range(0, 4).Select(p => y.narrow(1, p * m, m).narrow(2, p / 2, h).narrow(3, p % 2, w))], 1);
    }

    /// <summary>
    /// <see cref="PhaseConvolution.UpsampledKernel"/> from the live weights, differentiably: the 3x3 convolution of
    /// Up2(X) on X's k x k planes, a [(2k)^2 m, k^2 c, 3, 3] kernel of tap sums (the export's tap map).
    /// </summary>
    private static (Tensor Weight, Tensor Bias) UpsampledKernel(Conv2d conv, int k)
    {
        var weight = conv.weight!;
        var map = PhaseConvolution.TapMap(k);
        using var taps = tensor(map.Values, map.Shape, weight.dtype);
        var kernel = einsum("pasT,oiTU,qbuU->pqoabisu", taps, weight, taps)
            .reshape(4 * k * k * weight.shape[0], k * k * weight.shape[1], 3, 3);
        return (kernel, conv.bias!.repeat(4 * k * k));
    }
}

/// <summary>DnCNN-style denoiser: a 3x3 conv + ReLU stack predicts the noise (output = centre slice - noise) or, with PredictsImage, the image.</summary>
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
            x = Convolve(body[i], x);
            if (i < body.Count - 1)
                x = nn.functional.relu(x);
        }
        return FromPrediction(input, x).MoveToOuterDisposeScope();
    }
}

/// <summary>
/// U-Net: two 3x3 conv + ReLU per level, 2x2 max pooling down, nearest x2 up concatenated with the encoder's
/// features of that level; predicts the noise (output = centre slice - noise) or, with PredictsImage, the image.
/// </summary>
internal sealed class UNet : DenoisingNetwork
{
    private readonly ModuleList<Conv2d> convs;

    public UNet(ArchitectureSpec spec) : base(nameof(UNet), spec)
    {
        convs = nn.ModuleList(spec.Layers().Select(Conv).ToArray());
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var skips = new List<Tensor>();
        var x = input;
        var next = 0;
        Tensor Pair(Tensor t)
        {
            t = nn.functional.relu(Convolve(convs[next++], t));
            return nn.functional.relu(Convolve(convs[next++], t));
        }
        for (var level = 0; level < Spec.Depth; level++)
        {
            if (level > 0)
                x = nn.functional.max_pool2d(x, 2);
            x = Pair(x);
            skips.Add(x);
        }
        for (var level = Spec.Depth - 2; level >= 0; level--)
            x = Pair(cat([Upsample(x), skips[level]], 1));
        return FromPrediction(input, Convolve(convs[next], x)).MoveToOuterDisposeScope();
    }
}
