using System.Text.Json.Serialization;

namespace Pipeline.Denoising.Architectures;

/// <summary>How the last layer maps features to intensities.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<OutputActivation>))]
public enum OutputActivation
{
    /// <summary>Identity: needed when normalised intensities can exceed 1 (noise, bright tissue).</summary>
    Linear,

    /// <summary>Logistic, as in Gondara 2016: only for data normalised into [0, 1].</summary>
    Sigmoid,
}

/// <summary>
/// One 3x3 convolution of a network, named as its state-dict key prefix; it runs at 2^-Level of the
/// image's height and width.
/// </summary>
public sealed record ConvLayer(string Name, int InChannels, int OutChannels, int Level = 0);

/// <summary>
/// A denoising network by name and parameters: the one description that the TorchSharp modules,
/// the ONNX exporter and the manifest all read, so the three cannot disagree.
/// </summary>
public sealed record ArchitectureSpec
{
    public const string Cdae = "cdae";
    public const string Residual = "dncnn";
    public const string UNet = "unet";

    /// <summary>"cdae" (Gondara 2016), "dncnn" (residual: predicts the noise) or "unet" (residual encoder-decoder).</summary>
    public required string Name { get; init; }

    /// <summary>Neighbouring slices on each side given as extra input channels (0 = 2D).</summary>
    public int ContextSlices { get; init; }

    /// <summary>Feature channels of the hidden layers (64 in the paper); the U-Net's first level (doubled per level).</summary>
    public int Width { get; init; } = 64;

    /// <summary>dncnn: number of convolutions; unet: number of resolution levels (Depth - 1 poolings). The cdae has five convolutions.</summary>
    public int Depth { get; init; } = 8;

    /// <summary>
    /// dncnn and unet: false (default) = the network predicts the noise and the output is centre slice -
    /// prediction (residual learning); true = it predicts the clean image directly, so flat regions such as
    /// air need no exact cancellation of the input. The cdae always predicts the image.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public bool PredictsImage { get; init; }

    /// <summary>cdae output; the residual networks' output is always linear.</summary>
    public OutputActivation Output { get; init; } = OutputActivation.Linear;

    public static ArchitectureSpec GondaraCdae(OutputActivation output = OutputActivation.Sigmoid, int contextSlices = 0) =>
        new() { Name = Cdae, Output = output, ContextSlices = contextSlices, Width = 64 };

    public static ArchitectureSpec ResidualDenoiser(int depth = 8, int width = 32, int contextSlices = 0) =>
        new() { Name = Residual, Depth = depth, Width = width, ContextSlices = contextSlices };

    /// <summary>
    /// A U-Net (Ronneberger 2015, two 3x3 convolutions per level, max pooling down, nearest x2 up and
    /// concatenation with the encoder's features) that predicts the noise, as in DnCNN (output = centre
    /// slice - noise), or with <paramref name="predictsImage"/> the clean image. Its receptive field grows with every level, which the highest
    /// noise levels need.
    /// </summary>
    public static ArchitectureSpec UNetDenoiser(int levels = 4, int width = 16, int contextSlices = 0, bool predictsImage = false) =>
        new() { Name = UNet, Depth = levels, Width = width, ContextSlices = contextSlices, PredictsImage = predictsImage };

    /// <summary>
    /// The architecture a user names (CLI, benchmarks); null depth/width take the architecture's defaults
    /// (dncnn 8 convolutions of 32 channels, U-Net 4 levels from 16 channels; the cdae is fixed at 64).
    /// </summary>
    public static ArchitectureSpec ByName(string name, int? depth = null, int? width = null, int contextSlices = 0,
        OutputActivation output = OutputActivation.Sigmoid, bool predictsImage = false)
    {
        var spec = name switch
        {
            Cdae => GondaraCdae(output, contextSlices),
            Residual => ResidualDenoiser(depth ?? 8, width ?? 32, contextSlices) with { PredictsImage = predictsImage },
            UNet => UNetDenoiser(depth ?? 4, width ?? 16, contextSlices, predictsImage),
            _ => new ArchitectureSpec { Name = name },
        };
        spec.Validate();
        return spec;
    }

    /// <summary>Input channels: the slice itself plus its neighbours.</summary>
    [JsonIgnore]
    public int InChannels => 2 * ContextSlices + 1;

    /// <summary>Whether the network predicts the noise and subtracts it from the centre slice.</summary>
    [JsonIgnore]
    public bool PredictsNoise => Name is (Residual or UNet) && !PredictsImage;

    /// <summary>Height and width must be multiples of this (2x2 poolings: two in the cdae, Depth - 1 in the U-Net).</summary>
    [JsonIgnore]
    public int SizeMultiple => Name switch
    {
        Cdae => 4,
        UNet => 1 << (Depth - 1),
        _ => 1,
    };

    /// <summary>The convolutions in forward order, with their state-dict names.</summary>
    public IReadOnlyList<ConvLayer> Layers()
    {
        Validate();
        if (Name == Cdae)
        {
            return
            [
                new("enc1", InChannels, Width, 0),
                new("enc2", Width, Width, 1),
                new("dec1", Width, Width, 2),
                new("dec2", Width, Width, 1),
                new("output", Width, 1, 0),
            ];
        }
        if (Name == UNet)
            return UNetLayers();
        var layers = new List<ConvLayer>(Depth);
        for (var i = 0; i < Depth; i++)
            layers.Add(new($"body.{i}", i == 0 ? InChannels : Width, i == Depth - 1 ? 1 : Width));
        return layers;
    }

    /// <summary>
    /// U-Net convolutions in forward order: "convs.{i}", two per encoder level (the last level is the
    /// bottleneck), two per decoder level (its first one reads the upsampled features concatenated
    /// with the encoder's), then the 1-channel output.
    /// </summary>
    private List<ConvLayer> UNetLayers()
    {
        var layers = new List<ConvLayer>();
        void Add(int input, int output, int level) => layers.Add(new($"convs.{layers.Count}", input, output, level));
        int Channels(int level) => Width << level;
        for (var level = 0; level < Depth; level++)
        {
            Add(level == 0 ? InChannels : Channels(level - 1), Channels(level), level);
            Add(Channels(level), Channels(level), level);
        }
        for (var level = Depth - 2; level >= 0; level--)
        {
            Add(Channels(level + 1) + Channels(level), Channels(level), level);
            Add(Channels(level), Channels(level), level);
        }
        Add(Width, 1, 0);
        return layers;
    }

    /// <summary>Multiply-accumulates per output pixel (3x3 convolutions at their resolutions).</summary>
    public double MacsPerPixel() => Layers().Sum(l => 9.0 * l.InChannels * l.OutChannels / (1 << (2 * l.Level)));

    public void Validate()
    {
        if (Name is not (Cdae or Residual or UNet))
            throw new ArgumentException($"Unknown architecture '{Name}': expected '{Cdae}', '{Residual}' or '{UNet}'.");
        if (ContextSlices is < 0 or > 8)
            throw new ArgumentException($"ContextSlices must be 0..8, got {ContextSlices}.");
        if (Width is < 1 or > 1024)
            throw new ArgumentException($"Width must be 1..1024, got {Width}.");
        if (Name == Residual && Depth is < 2 or > 64)
            throw new ArgumentException($"Depth must be 2..64, got {Depth}.");
        if (Name == UNet && Depth is < 2 or > 6)
            throw new ArgumentException($"The U-Net needs 2..6 levels, got {Depth}.");
        // libtorch's oneDNN computed a width-8 U-Net wrong (forward and gradients, against float64), so
        // training and TorchSharp inference keep its channel counts on oneDNN's 16-channel block.
        if (Name == UNet && (Width % 16 != 0 || Width > 256))
            throw new ArgumentException($"The U-Net's first-level width must be a multiple of 16 up to 256, got {Width}.");
        if (Name != Cdae && Output != OutputActivation.Linear)
            throw new ArgumentException("The dncnn and unet outputs are linear.");
    }
}
