using CsCheck;
using Pipeline.Imaging.Metrics;
using Pipeline.Imaging.Tests.Support;

namespace Pipeline.Imaging.Tests;

public sealed class MetricPropertyTests
{
    [Fact]
    public void Psnr_of_identical_images_is_infinite() =>
        TestImages.Random().Sample(image =>
        {
            Assert.Equal(0, FidelityMetrics.Mse(image, image.Clone()));
            Assert.Equal(double.PositiveInfinity, FidelityMetrics.Psnr(image, image.Clone(), 4095));
        }, iter: 100);

    [Fact]
    public void Ssim_of_identical_images_is_one() =>
        TestImages.Random().Sample(image =>
        {
            var result = StructuralSimilarity.Compute(image, image.Clone(), 4095);
            Assert.Equal(1.0, result.Mean, 12);
            Assert.All(result.Map!.Pixels, s => Assert.Equal(1f, s, 5));
        }, iter: 100);

    [Fact]
    public void Ssim_is_symmetric() =>
        Gen.Select(TestImages.Random(), Gen.Int)
            .Sample((image, seed) =>
            {
                var other = TestImages.Uniform(image.Width, image.Height, 4095, seed);
                Assert.Equal(StructuralSimilarity.Mean(image, other, 4095), StructuralSimilarity.Mean(other, image, 4095));
            }, iter: 100);

    [Fact]
    public void Psnr_follows_its_definition_for_a_constant_offset()
    {
        // Every pixel off by 10 on a range of 1000: MSE 100, PSNR 10 log10(1000^2 / 100) = 40 dB exactly.
        var a = TestImages.Uniform(32, 32, 900, seed: 1);
        a = a.With(a.Pixels.Select(v => MathF.Round(v)).ToArray()); // integers: v + 10 is exact in float
        var b = a.With(a.Pixels.Select(v => v + 10).ToArray());
        Assert.Equal(100, FidelityMetrics.Mse(a, b), 9);
        Assert.Equal(40, FidelityMetrics.Psnr(a, b, 1000), 9);
    }

    [Fact]
    public void Mask_restricts_the_pixels_that_count()
    {
        var a = TestImages.Flat(40, 40, 100);
        var b = a.Clone();
        for (var i = 20 * 40; i < 40 * 40; i++) b.Pixels[i] = 0; // damage rows 20-39 only
        var topHalf = Enumerable.Range(0, 1600).Select(i => i / 40 < 20).ToArray();
        Assert.Equal(0, FidelityMetrics.Mse(a, b, topHalf));
        Assert.Equal(100 * 100 / 2.0, FidelityMetrics.Mse(a, b));
        // SSIM windows centred on rows < 15 never reach the damage (radius 5).
        var farFromDamage = Enumerable.Range(0, 1600).Select(i => i / 40 < 15).ToArray();
        Assert.Equal(1.0, StructuralSimilarity.Mean(a, b, 255, farFromDamage), 12);
        Assert.True(StructuralSimilarity.Mean(a, b, 255) < 0.9);
    }

    [Fact]
    public void Ssim_refuses_images_smaller_than_its_window() =>
        Assert.Throws<ArgumentException>(() => StructuralSimilarity.Mean(TestImages.Flat(10, 30, 1), TestImages.Flat(10, 30, 1), 1));
}
