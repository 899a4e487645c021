using CsCheck;
using Pipeline.Imaging.Noise;
using Pipeline.Imaging.Tests.Support;

namespace Pipeline.Imaging.Tests;

public sealed class NoiseModelTests
{
    private static readonly NoiseModel[] AtLevelZero = [new GaussianNoise(0), new RicianNoise(0), new PoissonNoise(0), new MaskingNoise(0)];

    [Fact]
    public void Level_zero_is_identity_on_non_negative_images() =>
        Gen.Select(TestImages.Random(), Gen.Int).Sample((image, seed) =>
        {
            foreach (var model in AtLevelZero)
                Assert.Equal(image.Pixels, model.Apply(image, 4095, seed).Pixels);
        }, iter: 50);

    [Fact]
    public void Same_seed_same_noise_and_different_seed_different_noise()
    {
        var clean = TestImages.Uniform(64, 64, 1000, seed: 3);
        foreach (var model in new NoiseModel[] { new GaussianNoise(0.1), new RicianNoise(0.1), new PoissonNoise(0.1), new MaskingNoise(0.3) })
        {
            Assert.Equal(model.Apply(clean, 1000, 42).Pixels, model.Apply(clean, 1000, 42).Pixels);
            Assert.NotEqual(model.Apply(clean, 1000, 42).Pixels, model.Apply(clean, 1000, 43).Pixels);
        }
    }

    [Fact]
    public void Gaussian_noise_has_level_times_range_standard_deviation_and_zero_mean()
    {
        var clean = TestImages.Flat(256, 256, 500);
        var noisy = new GaussianNoise(0.1).Apply(clean, 4095, seed: 1);
        var (mean, sd) = MeanAndSd(noisy.Pixels);
        // 65536 samples: standard error of the mean is 409.5/256 = 1.6, of the sd ~1.1.
        Assert.InRange(mean, 500 - 8, 500 + 8);
        Assert.InRange(sd, 409.5 * 0.99, 409.5 * 1.01);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(1.0)]
    [InlineData(2.0)]
    [InlineData(5.0)]
    public void Rician_mean_bias_in_flat_regions_matches_theory(double snr)
    {
        // Rice(nu, sigma) mean = sigma sqrt(pi/2) L_1/2(-nu^2 / 2 sigma^2); with t = nu^2 / 4 sigma^2 that is
        // sigma sqrt(pi/2) [(1 + 2t) I0e(t) + 2t I1e(t)] (exponentially scaled Bessel functions).
        const double range = 1000, level = 0.1, sigma = level * range;
        var nu = snr * sigma;
        var noisy = new RicianNoise(level).Apply(TestImages.Flat(256, 256, (float)nu), range, seed: 11);
        var (mean, _) = MeanAndSd(noisy.Pixels);
        var t = nu * nu / (4 * sigma * sigma);
        var expected = sigma * Math.Sqrt(Math.PI / 2) * ((1 + 2 * t) * ScaledBessel(0, t) + 2 * t * ScaledBessel(1, t));
        // Rice sd <= sigma, so the standard error of the mean is <= 100/256 = 0.39; allow 4 of them.
        Assert.InRange(mean, expected - 1.6, expected + 1.6);
        if (snr == 0) Assert.Equal(sigma * Math.Sqrt(Math.PI / 2), expected, 9); // Rayleigh mean, by hand
    }

    [Fact]
    public void Poisson_noise_is_unbiased_with_sd_level_times_range_at_full_range_and_sqrt_scaling()
    {
        const double range = 1000, level = 0.05;
        foreach (var value in new[] { 1000.0, 250.0, 4.0 })
        {
            var noisy = new PoissonNoise(level).Apply(TestImages.Flat(256, 256, (float)value), range, seed: 5);
            var (mean, sd) = MeanAndSd(noisy.Pixels);
            var expectedSd = level * range * Math.Sqrt(value / range);
            Assert.InRange(mean, value - 4 * expectedSd / 256, value + 4 * expectedSd / 256);
            Assert.InRange(sd, expectedSd * 0.98, expectedSd * 1.02);
        }
    }

    [Fact]
    public void Masking_zeroes_the_requested_fraction_and_keeps_the_rest()
    {
        var clean = TestImages.Flat(256, 256, 7);
        var noisy = new MaskingNoise(0.25).Apply(clean, 4095, seed: 9);
        var zeroed = noisy.Pixels.Count(v => v == 0) / (double)noisy.Pixels.Length;
        Assert.InRange(zeroed, 0.25 - 0.007, 0.25 + 0.007); // 4 binomial standard errors
        Assert.All(noisy.Pixels, v => Assert.True(v == 0 || v == 7));
    }

    [Theory]
    [InlineData("rician:0.1", typeof(RicianNoise), 0.1)]
    [InlineData("gaussian:0.05", typeof(GaussianNoise), 0.05)]
    [InlineData("Poisson:0.2", typeof(PoissonNoise), 0.2)]
    [InlineData("masking:0.5", typeof(MaskingNoise), 0.5)]
    public void Specs_parse(string spec, Type type, double level)
    {
        var model = NoiseModel.Parse(spec);
        Assert.IsType(type, model);
        Assert.Equal(level, model.Level);
        Assert.Equal(spec.ToLowerInvariant(), model.ToString());
    }

    [Fact]
    public void Volume_noise_is_reproducible_and_independent_per_slice()
    {
        var slices = Enumerable.Range(0, 4).Select(_ => TestImages.Flat(16, 16, 100)).ToArray();
        var volume = new Volume(slices, VolumeGeometry.Identity());
        var a = new RicianNoise(0.1).Apply(volume, 1000, seed: 1);
        var b = new RicianNoise(0.1).Apply(volume, 1000, seed: 1);
        for (var k = 0; k < 4; k++) Assert.Equal(a.Slices[k].Pixels, b.Slices[k].Pixels);
        Assert.NotEqual(a.Slices[0].Pixels, a.Slices[1].Pixels);
    }

    internal static (double Mean, double Sd) MeanAndSd(float[] values)
    {
        var mean = values.Average(v => (double)v);
        var variance = values.Sum(v => (v - mean) * (v - mean)) / values.Length;
        return (mean, Math.Sqrt(variance));
    }

    /// <summary>e^-t I_n(t) by its power series (t is small here).</summary>
    private static double ScaledBessel(int n, double t)
    {
        double sum = 0, term = Math.Pow(t / 2, n); // k = 0 term: (t/2)^n / (0! n!), n <= 1
        for (var k = 0; k < 200; k++)
        {
            sum += term;
            term *= (t / 2) * (t / 2) / ((k + 1) * (k + 1 + n));
        }
        return sum * Math.Exp(-t);
    }
}
