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

/// <summary>One 3x3 convolution of a network, named as its state-dict key prefix.</summary>
public sealed record ConvLayer(string Name, int InChannels, int OutChannels);

/// <summary>
/// A denoising network by name and parameters: the one description that the TorchSharp modules,
/// the ONNX exporter and the manifest all read, so the three cannot disagree.
/// </summary>
public sealed record ArchitectureSpec
{
    public const string Cdae = "cdae";
    public const string Residual = "dncnn";

    /// <summary>"cdae" (Gondara 2016) or "dncnn" (residual: predicts the noise).</summary>
    public required string Name { get; init; }

    /// <summary>Neighbouring slices on each side given as extra input channels (0 = 2D).</summary>
    public int ContextSlices { get; init; }

    /// <summary>Feature channels of the hidden layers (64 in the paper).</summary>
    public int Width { get; init; } = 64;

    /// <summary>Number of convolutions (residual only; the cdae has five).</summary>
    public int Depth { get; init; } = 8;

    /// <summary>cdae output; the residual network's output is always linear.</summary>
    public OutputActivation Output { get; init; } = OutputActivation.Linear;

    public static ArchitectureSpec GondaraCdae(OutputActivation output = OutputActivation.Sigmoid, int contextSlices = 0) =>
        new() { Name = Cdae, Output = output, ContextSlices = contextSlices, Width = 64 };

    public static ArchitectureSpec ResidualDenoiser(int depth = 8, int width = 32, int contextSlices = 0) =>
        new() { Name = Residual, Depth = depth, Width = width, ContextSlices = contextSlices };

    /// <summary>Input channels: the slice itself plus its neighbours.</summary>
    [JsonIgnore]
    public int InChannels => 2 * ContextSlices + 1;

    /// <summary>Height and width must be multiples of this (two 2x2 poolings in the cdae).</summary>
    [JsonIgnore]
    public int SizeMultiple => Name == Cdae ? 4 : 1;

    /// <summary>The convolutions in forward order, with their state-dict names.</summary>
    public IReadOnlyList<ConvLayer> Layers()
    {
        Validate();
        if (Name == Cdae)
        {
            return
            [
                new("enc1", InChannels, Width),
                new("enc2", Width, Width),
                new("dec1", Width, Width),
                new("dec2", Width, Width),
                new("output", Width, 1),
            ];
        }
        var layers = new List<ConvLayer>(Depth);
        for (var i = 0; i < Depth; i++)
            layers.Add(new($"body.{i}", i == 0 ? InChannels : Width, i == Depth - 1 ? 1 : Width));
        return layers;
    }

    /// <summary>Multiply-accumulates per output pixel (3x3 convolutions at their resolutions).</summary>
    public double MacsPerPixel()
    {
        var layers = Layers();
        if (Name == Residual)
            return layers.Sum(l => 9.0 * l.InChannels * l.OutChannels);
        // cdae: enc1 at full size, enc2 and dec1 at 1/4 and 1/16 area, dec2 at 1/4, output at full.
        double[] area = [1, 0.25, 0.0625, 0.25, 1];
        return layers.Select((l, i) => 9.0 * l.InChannels * l.OutChannels * area[i]).Sum();
    }

    public void Validate()
    {
        if (Name is not (Cdae or Residual))
            throw new ArgumentException($"Unknown architecture '{Name}': expected '{Cdae}' or '{Residual}'.");
        if (ContextSlices is < 0 or > 8)
            throw new ArgumentException($"ContextSlices must be 0..8, got {ContextSlices}.");
        if (Width is < 1 or > 1024)
            throw new ArgumentException($"Width must be 1..1024, got {Width}.");
        if (Name == Residual && Depth is < 2 or > 64)
            throw new ArgumentException($"Depth must be 2..64, got {Depth}.");
        if (Name == Residual && Output != OutputActivation.Linear)
            throw new ArgumentException("The residual network's output is linear (input minus predicted noise).");
    }
}
