using Pipeline.Imaging.Dicom;
using Pipeline.Imaging.Metrics;
using Pipeline.Imaging.Noise;
using Pipeline.Imaging.Samples;
using Pipeline.Imaging.Tests.Support;

namespace Pipeline.Imaging.Tests;

public sealed class SeriesComparisonTests
{
    [Fact]
    public void Metrics_match_by_position_even_when_file_names_disagree()
    {
        using var folder = new TempFolder();
        var options = new SampleSeriesOptions { Name = "compare" };
        var stored = SampleSeries.ToStoredScale(TestImages.Colin27Volume.Slab(88, 4));
        var noisy = SampleSeries.AddNoise(stored, new GaussianNoise(0.02), seed: 3);
        SampleSeries.Write(stored, folder.File("ref"), options);
        var test = SampleSeries.Write(noisy, folder.File("test"), options, "gaussian:0.02 seed 3", 2);
        // Shuffle the test names: matching must use positions, not names or order.
        for (var i = 0; i < test.Files.Count; i++) File.Move(test.Files[i], folder.File($"test/x{(7 * i) % 4}{i}.dcm"));

        var result = SeriesComparison.Compare(SeriesInstance.ReadSeries(folder.File("ref")), SeriesInstance.ReadSeries(folder.File("test")));
        Assert.Equal("position", result.MatchedBy);
        Assert.Equal(4095, result.DataRange);
        Assert.Equal(4, result.Instances.Count);
        for (var k = 0; k < 4; k++)
        {
            var m = result.Instances[k];
            Assert.EndsWith($"{k + 1:D4}.dcm", m.Reference);
            Assert.Equal(FidelityMetrics.Mse(stored.Slices[k], noisy.Slices[k]), m.Mse, 6);
            Assert.Equal(StructuralSimilarity.Mean(stored.Slices[k], noisy.Slices[k], 4095), m.Ssim, 9);
        }
        Assert.Equal(result.Instances.Average(m => m.Psnr), result.MeanPsnr, 9);
        // Gaussian noise of sd 0.02 * 4095 (slightly less after clamping at 0): PSNR ~ 20 log10(1 / 0.02) = 34 dB.
        Assert.InRange(result.MeanPsnr, 33.5, 36);
    }

    [Fact]
    public void Identical_series_give_zero_mse_infinite_psnr_and_ssim_one()
    {
        using var folder = new TempFolder();
        var stored = SampleSeries.ToStoredScale(TestImages.Colin27Volume.Slab(90, 2));
        var written = SampleSeries.Write(stored, folder.File("a"), new SampleSeriesOptions { Name = "same" });
        var series = SeriesInstance.ReadSeries(folder.File("a"));
        var result = SeriesComparison.Compare(series, series, dataRange: 1000);
        Assert.Equal(1000, result.DataRange);
        Assert.All(result.Instances, m => Assert.Equal((0.0, double.PositiveInfinity, 1.0), (m.Mse, m.Psnr, Math.Round(m.Ssim, 12))));
        Assert.Equal(2, written.Files.Count);
    }

    [Fact]
    public void Unmatched_instances_are_refused_with_a_reason()
    {
        using var folder = new TempFolder();
        var stored = SampleSeries.ToStoredScale(TestImages.Colin27Volume.Slab(90, 3));
        SampleSeries.Write(stored, folder.File("a"), new SampleSeriesOptions { Name = "a" });
        SampleSeries.Write(stored.Slab(0, 2), folder.File("b"), new SampleSeriesOptions { Name = "b" });
        var e = Assert.Throws<InvalidDataException>(() =>
            SeriesComparison.Compare(SeriesInstance.ReadSeries(folder.File("a")), SeriesInstance.ReadSeries(folder.File("b"))));
        Assert.Contains("0 test instances", e.Message);
    }
}
