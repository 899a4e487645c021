using TorchSharp;

namespace Pipeline.Denoising.Training.Tests;

/// <summary>Proves libtorch loads on this OS (see the GLIBCXX patch in Directory.Build.targets).</summary>
public sealed class TorchSharpLoadsTests
{
    [Fact]
    public void A_3x3_convolution_of_a_ones_image_with_a_ones_kernel_sums_nine_pixels()
    {
        using var scope = torch.NewDisposeScope();
        var image = torch.ones(1, 1, 5, 5);
        var kernel = torch.ones(1, 1, 3, 3);
        var output = torch.nn.functional.conv2d(image, kernel);

        Assert.Equal(new long[] { 1, 1, 3, 3 }, output.shape);
        Assert.All(output.data<float>().ToArray(), v => Assert.Equal(9f, v));
    }
}
