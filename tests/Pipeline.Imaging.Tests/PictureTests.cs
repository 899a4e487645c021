using Pipeline.Imaging.Metrics;
using Pipeline.Imaging.Noise;
using Pipeline.Imaging.Pictures;
using Pipeline.Imaging.Tests.Support;
using SkiaSharp;

namespace Pipeline.Imaging.Tests;

/// <summary>PNG pictures decode, have the documented layout, and show what they claim.</summary>
public sealed class PictureTests
{
    /// <summary>Set PIPELINE_IMAGING_KEEP=DIR to keep the pictures for a look.</summary>
    private static void Keep(string name, byte[] png)
    {
        if (Environment.GetEnvironmentVariable("PIPELINE_IMAGING_KEEP") is { Length: > 0 } dir)
        {
            Directory.CreateDirectory(dir);
            File.WriteAllBytes(Path.Combine(dir, name), png);
        }
    }

    [Fact]
    public void Montage_has_three_labelled_columns_per_mid_slice()
    {
        var clean = TestImages.Colin27Volume;
        var noisy = new RicianNoise(0.1).Apply(clean, 255, seed: 1);
        var png = SeriesMontage.Render(noisy, clean);
        Keep("montage.png", png);

        using var bitmap = SKBitmap.Decode(png);
        Assert.NotNull(bitmap);
        // 181 x 217 slices need no zoom: width 72 + 3 (181 + 8) + 8, height 28 + 3 (217 + 8) + 24.
        Assert.Equal(72 + 3 * (181 + 8) + 8, bitmap.Width);
        Assert.Equal(28 + 3 * (217 + 8) + 24, bitmap.Height);
        Assert.Equal(SeriesMontage.Background, bitmap.GetPixel(2, 2));
        // Header text is drawn above each column.
        for (var c = 0; c < 3; c++)
        {
            var x0 = 72 + 8 + c * (181 + 8);
            Assert.Contains(Enumerable.Range(x0, 181), x => Enumerable.Range(7, 14).Any(y => bitmap.GetPixel(x, y) == SeriesMontage.Text));
        }
        // Panels are grey and the zero background of the clean (denoised) column is black.
        var denoisedCorner = bitmap.GetPixel(72 + 8 + 189 + 1, 28 + 1);
        Assert.Equal(new SKColor(0, 0, 0), denoisedCorner);
        var brain = bitmap.GetPixel(72 + 8 + 90, 28 + 108);
        Assert.True(brain.Red == brain.Green && brain.Green == brain.Blue && brain.Red > 40, $"brain pixel {brain}");
    }

    [Fact]
    public void Identical_series_give_identical_panels_and_a_flat_mid_grey_difference()
    {
        var slices = Enumerable.Range(0, 5).Select(k => TestImages.Uniform(40, 30, 1000, seed: k)).ToArray();
        var volume = new Volume(slices, VolumeGeometry.Identity());
        using var bitmap = SKBitmap.Decode(SeriesMontage.Render(volume, volume));
        var zoom = SeriesMontage.Zoom(40, 30);
        Assert.Equal(4, zoom); // ceil(160 / 40)
        int pw = 40 * zoom, ph = 30 * zoom;
        Assert.Equal(72 + 3 * (pw + 8) + 8, bitmap.Width);
        Assert.Equal([1, 2, 3], SeriesMontage.MidSlices(5));
        for (var r = 0; r < 3; r++)
            for (var y = 0; y < ph; y += 7)
                for (var x = 0; x < pw; x += 5)
                {
                    var top = 28 + r * (ph + 8) + y;
                    Assert.Equal(bitmap.GetPixel(SeriesMontage.PanelX(0, pw) + x, top), bitmap.GetPixel(SeriesMontage.PanelX(1, pw) + x, top));
                    Assert.Equal(new SKColor(128, 128, 128), bitmap.GetPixel(SeriesMontage.PanelX(2, pw) + x, top));
                }
    }

    [Fact]
    public void Window_maps_low_to_black_high_to_white_linearly()
    {
        var window = new DisplayWindow(100, 300);
        Assert.Equal(0, window.Grey(50));
        Assert.Equal(255, window.Grey(300));
        Assert.Equal(128, window.Grey(200)); // 127.5, to even
        Assert.Equal(64, window.Grey(150));  // 63.75
    }

    [Fact]
    public void Quality_chart_draws_every_curve()
    {
        var clean = TestImages.Colin27Volume.Slices[90];
        var levels = new[] { 0.02, 0.05, 0.1, 0.15, 0.2 };
        var noisy = levels.Select(l =>
        {
            var n = new RicianNoise(l).Apply(clean, 255, seed: 1);
            return new QualityPoint(l, FidelityMetrics.Psnr(clean, n, 255), StructuralSimilarity.Mean(clean, n, 255));
        }).ToArray();
        var corrected = levels.Select(l =>
        {
            var n = RicianStatistics.CorrectBias(new RicianNoise(l).Apply(clean, 255, seed: 1), l * 255);
            return new QualityPoint(l, FidelityMetrics.Psnr(clean, n, 255), StructuralSimilarity.Mean(clean, n, 255));
        }).ToArray();
        var png = QualityChart.Render([new QualityCurve("noisy", noisy), new QualityCurve("bias corrected", corrected)]);
        Keep("chart.png", png);

        using var bitmap = SKBitmap.Decode(png);
        Assert.Equal((QualityChart.Width, QualityChart.Height), (bitmap.Width, bitmap.Height));
        Assert.Equal(SKColors.White, bitmap.GetPixel(QualityChart.Width - 2, QualityChart.Height - 2));
        var colours = new HashSet<SKColor>();
        for (var y = 0; y < bitmap.Height; y++)
            for (var x = 0; x < bitmap.Width; x++)
                colours.Add(bitmap.GetPixel(x, y));
        Assert.Contains(QualityChart.Palette[0], colours);
        Assert.Contains(QualityChart.Palette[1], colours);
    }
}
