using CsCheck;
using Pipeline.Imaging.Normalisation;
using Pipeline.Imaging.Tests.Support;

namespace Pipeline.Imaging.Tests;

public sealed class IntensityNormalisationTests
{
    [Fact]
    public void Round_trip_is_exact_for_stored_values_mr_and_ct() =>
        Gen.OneOf(TestImages.RandomIntegers(0, 4095), TestImages.RandomIntegers(-1024, 3071), TestImages.RandomIntegers(0, 65535))
            .Sample(image =>
            {
                var n = IntensityNormalisation.Fit([image]);
                Assert.Equal(image.Pixels, n.Denormalise(n.Normalise(image)).Pixels);
            }, iter: 200);

    [Fact]
    public void Robust_window_ignores_background_and_saturation_and_lands_in_unit_range()
    {
        // 50% background at 0, foreground uniform 1000-2000, 5% saturated at 4095.
        var random = new Random(1);
        var pixels = new float[100 * 100];
        for (var i = 0; i < pixels.Length; i++)
            pixels[i] = i % 2 == 0 ? 0 : i % 20 == 1 ? 4095 : 1000 + (float)Math.Round(random.NextDouble() * 1000);
        var image = new Image(100, 100, pixels);
        var n = IntensityNormalisation.Fit([image], new NormalisationOptions(Saturation: 4095));
        Assert.InRange(n.Low, 1000, 1010);     // 0.5th percentile of U(1000, 2000)
        Assert.InRange(n.High, 1990, 2000);    // 99.5th
        Assert.Equal(Math.Floor(n.Low), n.Offset);
        Assert.Equal(1024, n.Scale);           // next power of two above high - offset
        var normalised = n.Normalise(image);
        Assert.All(normalised.Pixels.Where((_, i) => pixels[i] >= n.Low && pixels[i] <= n.High), y => Assert.InRange(y, 0f, 1f));
        Assert.InRange(n.Normalise((float)n.High), 0.5f, 1f); // the window fills at least half the unit range
    }

    [Fact]
    public void Excluded_pixels_pass_through_on_output()
    {
        var original = new Image(4, 1, [0, 500, 4095, 700]);
        var n = IntensityNormalisation.Fit([original], new NormalisationOptions(Saturation: 4095));
        var denoised = new Image(4, 1, [12, 490, 3900, 710]);
        Assert.Equal(new float[] { 0, 490, 4095, 710 }, n.RestoreExcluded(original, denoised).Pixels);
    }

    [Fact]
    public void Outputs_never_go_below_the_series_floor()
    {
        var original = new Image(4, 1, [3, 40, 900, 20]);
        var n = IntensityNormalisation.Fit([original]);
        Assert.Equal(3, n.Background);
        var denoised = new Image(4, 1, [-5, -12, 880, 2.5f]);
        Assert.Equal(new float[] { 3, 3, 880, 3 }, n.RestoreExcluded(original, denoised).Pixels);
    }

    [Fact]
    public void Ct_window_is_fixed_in_hounsfield_units()
    {
        var n = IntensityNormalisation.Fixed(-1024, 3071);
        Assert.Equal(0f, n.Normalise(-1024f));
        Assert.Equal(1024f / 4096, n.Normalise(0f)); // water
        Assert.Equal(-1024f, n.Denormalise(n.Normalise(-1024f)));
    }

    [Fact]
    public void Percentile_matches_numpy_linear_interpolation()
    {
        // numpy.percentile([1, 2, 3, 4], 25) == 1.75 and (.., 90) == 3.7
        float[] sorted = [1, 2, 3, 4];
        Assert.Equal(1.75, IntensityNormalisation.Percentile(sorted, 25), 12);
        Assert.Equal(3.7, IntensityNormalisation.Percentile(sorted, 90), 6);
    }
}
