using Pipeline.Denoising.Architectures;
using Pipeline.Denoising.Inference;

namespace Pipeline.Denoising.Tests.Inference;

/// <summary>An engine that returns one chosen input channel unchanged: exposes the plumbing around the network.</summary>
internal sealed class ChannelEcho(ArchitectureSpec spec, int channel) : IDenoisingEngine
{
    public int Calls { get; private set; }
    public List<(int Batch, int Height, int Width)> Shapes { get; } = [];

    public string Name => "echo";
    public string Device => "none";
    public ArchitectureSpec Architecture => spec;

    public void Run(ReadOnlyMemory<float> input, Memory<float> output, int batch, int height, int width)
    {
        Calls++;
        Shapes.Add((batch, height, width));
        Assert.Equal(0, height % spec.SizeMultiple);
        Assert.Equal(0, width % spec.SizeMultiple);
        var plane = height * width;
        for (var b = 0; b < batch; b++)
            input.Span.Slice((b * spec.InChannels + channel) * plane, plane).CopyTo(output.Span.Slice(b * plane, plane));
    }

    public void Dispose() { }
}
