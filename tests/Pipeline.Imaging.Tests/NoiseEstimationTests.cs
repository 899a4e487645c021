using Pipeline.Imaging.Noise;
using Pipeline.Imaging.Tests.Support;
using Xunit.Abstractions;

namespace Pipeline.Imaging.Tests;

/// <summary>Noise estimates against noise of known level added to real MRI (Colin27, range 255).</summary>
public sealed class NoiseEstimationTests(ITestOutputHelper output)
{
    private const double Range = 255;
    private static readonly int[] Slices = [50, 90, 130];

    public static TheoryData<double> Levels => new() { 0.05, 0.1, 0.2 };

    [Theory]
    [MemberData(nameof(Levels))]
    public void No_reference_estimate_is_within_10_percent_of_added_gaussian_noise(double level)
    {
        foreach (var k in Slices)
        {
            var noisy = new GaussianNoise(level).Apply(TestImages.Colin27Volume.Slices[k], Range, seed: k);
            var estimate = NoiseEstimator.Estimate(noisy);
            output.WriteLine($"slice {k} gaussian {level}: estimate/true = {estimate / (level * Range):F3}, Immerkaer {NoiseEstimator.Immerkaer(noisy) / (level * Range):F3}");
            Assert.InRange(estimate / (level * Range), 0.9, 1.1);
        }
    }

    [Theory]
    [MemberData(nameof(Levels))]
    public void Rician_sigma_from_background_is_within_10_percent(double level)
    {
        foreach (var k in Slices)
        {
            var noisy = new RicianNoise(level).Apply(TestImages.Colin27Volume.Slices[k], Range, seed: k);
            var estimate = RicianStatistics.EstimateSigma(noisy);
            output.WriteLine($"slice {k} rician {level}: sigma/true = {estimate.Sigma / (level * Range):F3} from {estimate.Source}, background {estimate.BackgroundFraction:P0}");
            Assert.Equal(SigmaSource.Background, estimate.Source);
            Assert.InRange(estimate.Sigma / (level * Range), 0.9, 1.1);
        }
    }

    [Fact]
    public void Rician_sigma_of_a_volume_uses_all_slices()
    {
        var noisy = new RicianNoise(0.1).Apply(TestImages.Colin27Volume, Range, seed: 3);
        var estimate = RicianStatistics.EstimateSigma(noisy.Slices);
        Assert.InRange(estimate.Sigma / 25.5, 0.95, 1.05);
    }

    [Fact]
    public void Without_background_the_estimate_falls_back_to_the_foreground()
    {
        // A flat bright phantom with no air: no Rayleigh hump, so the Laplacian estimate takes over; at SNR 10
        // Rician noise is close to Gaussian with the same sigma.
        var noisy = new RicianNoise(0.05).Apply(TestImages.Flat(128, 128, 128), Range, seed: 4);
        var estimate = RicianStatistics.EstimateSigma(noisy);
        Assert.Equal(SigmaSource.Foreground, estimate.Source);
        Assert.InRange(estimate.Sigma / (0.05 * Range), 0.9, 1.1);
    }

    [Fact]
    public void Bias_correction_follows_its_formula()
    {
        Assert.Equal(4f, RicianStatistics.CorrectBias(5f, Math.Sqrt(4.5))); // sqrt(25 - 9)
        Assert.Equal(0f, RicianStatistics.CorrectBias(1f, 2));              // clamped at zero
    }

    [Fact]
    public void Bias_corrected_squares_are_unbiased_in_a_flat_region()
    {
        // E[x^2] = A^2 + 2 sigma^2 for Rice(A, sigma), so mean(corrected^2) = A^2 whenever no pixel is clamped
        // (at SNR 5, x^2 < 2 sigma^2 essentially never happens). The raw mean is biased upward by ~sigma^2 / 2A.
        const double sigma = 20, amplitude = 100;
        var noisy = new RicianNoise(sigma / 1000).Apply(TestImages.Flat(256, 256, (float)amplitude), 1000, seed: 8);
        var corrected = RicianStatistics.CorrectBias(noisy, sigma);
        var meanSquare = corrected.Pixels.Average(v => (double)v * v);
        // sd of x^2 is ~2 A sigma = 4000, standard error 4000 / 256 = 16; allow 4 of them.
        Assert.InRange(meanSquare, amplitude * amplitude - 64, amplitude * amplitude + 64);
        var (rawMean, _) = NoiseModelTests.MeanAndSd(noisy.Pixels);
        Assert.InRange(rawMean - amplitude, 2 - 0.4, 2 + 0.4); // sigma^2 / 2A = 2
    }

    [Fact]
    public void Immerkaer_is_exact_in_expectation_on_flat_images()
    {
        var noisy = new GaussianNoise(0.1).Apply(TestImages.Flat(256, 256, 100), Range, seed: 2);
        Assert.InRange(NoiseEstimator.Immerkaer(noisy) / 25.5, 0.98, 1.02);
        Assert.InRange(NoiseEstimator.Estimate(noisy) / 25.5, 0.97, 1.03);
    }

    [Fact]
    public void Median_selection_agrees_with_sorting()
    {
        // The middle of the sorted values (mean of the two middles for an even count), on odd and even lengths,
        // many ties, sorted, reversed and constant inputs.
        var random = new Random(11);
        List<float[]> inputs = [[5], [2, 1], [3, 3, 3, 3], [.. Enumerable.Range(0, 1001).Select(i => (float)i)], [.. Enumerable.Range(0, 1000).Select(i => (float)-i)]];
        for (var n = 1; n < 300; n += 7)
        {
            inputs.Add([.. Enumerable.Range(0, n).Select(_ => (float)random.Next(5))]);
            inputs.Add([.. Enumerable.Range(0, n).Select(_ => (float)random.NextDouble())]);
        }
        foreach (var values in inputs)
        {
            var sorted = values.Order().ToArray();
            var expected = sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : 0.5 * ((double)sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]);
            Assert.Equal(expected, NoiseEstimator.Median((float[])values.Clone()));
        }
    }

    [Fact]
    public void Residuals_are_the_mask_applied_at_every_interior_pixel()
    {
        // Widths around the 8-pixel vector step, so rows end in the vector path, the scalar tail or both.
        int[,] mask = { { 1, -2, 1 }, { -2, 4, -2 }, { 1, -2, 1 } };
        var random = new Random(5);
        foreach (var (width, height) in new[] { (3, 3), (9, 4), (10, 5), (17, 3), (29, 7), (181, 6) })
        {
            var image = new Image(width, height, [.. Enumerable.Range(0, width * height).Select(_ => (float)(random.NextDouble() * 1000 - 300))]);
            var expected = new List<float>();
            for (var y = 1; y < height - 1; y++)
                for (var x = 1; x < width - 1; x++)
                {
                    double sum = 0;
                    for (var dy = -1; dy <= 1; dy++)
                        for (var dx = -1; dx <= 1; dx++)
                            sum += mask[dy + 1, dx + 1] * (double)image.Pixels[(y + dy) * width + x + dx];
                    expected.Add((float)Math.Abs(sum));
                }
            Assert.Equal(expected, NoiseEstimator.AbsoluteResiduals(image));
        }
    }
}
