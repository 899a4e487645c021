using Pipeline.Dicom;
using Pipeline.Imaging.Dicom;
using Pipeline.Imaging.Nifti;
using Pipeline.Imaging.Noise;
using Pipeline.Imaging.Samples;
using Pipeline.Imaging.Tests.Support;

namespace Pipeline.Imaging.Tests;

/// <summary>The NIfTI -> MR series generator, checked by dciodvfy and by dcm2niix reading the series back.</summary>
public sealed class SampleSeriesTests
{
    private static readonly SampleSeriesOptions Options = new() { Name = "test|ch2|80+6" };

    /// <summary>Six slices of Colin27 written as a series; returns the slab and the folder.</summary>
    private static (Volume Slab, WrittenSeries Written) WriteSlab(TempFolder folder, string sub = "clean")
    {
        var slab = TestImages.Colin27Volume.Slab(80, 6);
        var written = SampleSeries.Write(SampleSeries.ToStoredScale(slab), folder.File(sub), Options);
        return (slab, written);
    }

    [Fact]
    public void Every_instance_passes_dciodvfy_with_zero_errors()
    {
        using var folder = new TempFolder();
        var (_, written) = WriteSlab(folder);
        foreach (var file in written.Files)
        {
            var result = ExternalTool.Run("dciodvfy", file);
            var errors = (result.StdOut + result.StdErr).Split('\n').Where(l => l.StartsWith("Error", StringComparison.Ordinal)).ToArray();
            Assert.True(errors.Length == 0 && result.ExitCode == 0, $"{file}: {string.Join("; ", errors)}");
        }
    }

    [Fact]
    public void Dcm2niix_reads_back_identical_voxels_at_identical_positions()
    {
        using var folder = new TempFolder();
        var (slab, written) = WriteSlab(folder);
        var output = folder.File("nifti");
        Directory.CreateDirectory(output);
        var run = ExternalTool.Run("dcm2niix", "-z", "n", "-b", "n", "-f", "series", "-o", output, folder.File("clean"));
        Assert.True(run.ExitCode == 0, run.StdOut + run.StdErr);
        var back = NiftiReader.Read(Path.Combine(output, "series.nii")).Volume;
        Assert.Equal((slab.Width, slab.Height, slab.Depth), (back.Width, back.Height, back.Depth));

        // Expected stored values by hand: Colin27 is uint8 (minimum 0), so stored = round(v * 4095 / slab maximum).
        var g = slab.Geometry;
        var max = slab.Slices.SelectMany(s => s.Pixels).Max();
        var gb = back.Geometry;
        for (var k = 0; k < back.Depth; k++)
            for (var y = 0; y < back.Height; y += 3)
                for (var x = 0; x < back.Width; x += 3)
                {
                    // Where dcm2niix put this voxel, in the original slab's index space (it may flip rows or slices).
                    var p = gb.VoxelPosition(x, y, k) - g.Origin;
                    var i = p.Dot(g.RowDirection) / g.ColumnSpacing;
                    var j = p.Dot(g.ColumnDirection) / g.RowSpacing;
                    var s = p.Dot(g.SliceDirection) / g.SliceSpacing;
                    var (ii, jj, ss) = ((int)Math.Round(i), (int)Math.Round(j), (int)Math.Round(s));
                    Assert.True(Math.Abs(i - ii) < 1e-3 && Math.Abs(j - jj) < 1e-3 && Math.Abs(s - ss) < 1e-3, $"voxel ({x},{y},{k}) lands off-grid at ({i},{j},{s})");
                    Assert.Equal(Math.Round(slab[ii, jj, ss] * 4095.0 / max), back[x, y, k]);
                }
    }

    [Fact]
    public void Series_reads_back_in_order_with_geometry_and_default_data_range()
    {
        using var folder = new TempFolder();
        var (slab, written) = WriteSlab(folder);
        var instances = SeriesInstance.ReadSeries(folder.File("clean"));
        Assert.Equal(6, instances.Count);
        Assert.All(instances, i => Assert.Equal(written.SeriesInstanceUid, i.SeriesInstanceUid));
        Assert.Equal(Enumerable.Range(1, 6), instances.Select(i => i.InstanceNumber!.Value));
        Assert.Equal(4095, DicomImages.DefaultDataRange(instances[0].Description));
        var volume = SeriesInstance.ToVolume(instances);
        Assert.True((volume.Geometry.Origin - slab.Geometry.Origin).Length < 1e-4);
        Assert.Equal(1.0, volume.Geometry.SliceSpacing, 6);
        var file = DicomFile.Open(written.Files[2]);
        Assert.Equal(16, file.Dataset.GetInt(DicomTags.BitsAllocated));
        Assert.Equal(12, file.Dataset.GetInt(DicomTags.BitsStored));
        Assert.Equal(MrImage.SopClassUid, file.Dataset.GetString(DicomTags.SOPClassUID));
    }

    [Fact]
    public void Regenerating_gives_identical_files_and_noise_gives_a_new_series_of_the_same_study()
    {
        using var folder = new TempFolder();
        var (slab, first) = WriteSlab(folder, "a");
        var (_, second) = WriteSlab(folder, "b");
        for (var i = 0; i < first.Files.Count; i++)
            Assert.Equal(File.ReadAllBytes(first.Files[i]), File.ReadAllBytes(second.Files[i]));
        var stored = SampleSeries.ToStoredScale(slab);
        var noisy = SampleSeries.AddNoise(stored, new RicianNoise(0.1), seed: 1);
        var written = SampleSeries.Write(noisy, folder.File("noisy"), Options, "rician:0.1 seed 1", 2);
        Assert.Equal(first.StudyInstanceUid, written.StudyInstanceUid);
        Assert.NotEqual(first.SeriesInstanceUid, written.SeriesInstanceUid);
        Assert.All(noisy.Slices.SelectMany(s => s.Pixels), v => Assert.True(v >= 0 && v <= 4095 && v == MathF.Round(v)));
    }

    [Fact]
    public void Conversion_to_stored_values_rounds_half_away_from_zero_and_clamps()
    {
        var description = new PixelDescription { Rows = 1, Columns = 5, BitsAllocated = 16, BitsStored = 12, HighBit = 11, IsSigned = false, RescaleSlope = 2, RescaleIntercept = -1024 };
        var image = new Image(5, 1, [-1024, -1023, 5, -2000, 10000]);
        // (v + 1024) / 2 = 0, 0.5 -> 1, 514.5 -> 515, -488 -> 0 (clamped), 5512 -> 4095 (clamped)
        Assert.Equal([0, 1, 515, 0, 4095], DicomImages.ToStoredValues(image, description));
    }
}

/// <summary>The sample study committed under tests/data/sample-study is exactly what the generator makes.</summary>
public sealed class CommittedSampleStudyTests
{
    [Fact]
    public void Committed_sample_study_regenerates_byte_identical()
    {
        var root = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(root, "Pipeline.sln"))) root = Path.GetDirectoryName(root) ?? throw new InvalidOperationException("repository root not found");
        var committed = Path.Combine(root, "tests", "data", "sample-study");

        using var folder = new TempFolder();
        var options = SampleSeriesOptions.ForSlab(TestImages.Colin27, 82, 16);
        var stored = SampleSeries.ToStoredScale(TestImages.Colin27Volume.Slab(82, 16));
        var noise = new RicianNoise(0.05);
        var clean = SampleSeries.Write(stored, folder.File("t1"), options);
        var noisy = SampleSeries.Write(SampleSeries.AddNoise(stored, noise, 1), folder.File("t1-noisy"), options, SampleSeries.NoisyKind(noise, 1), 2);
        foreach (var (written, sub) in new[] { (clean, "t1"), (noisy, "t1-noisy") })
        {
            Assert.Equal(16, Directory.GetFiles(Path.Combine(committed, sub), "*.dcm").Length);
            foreach (var file in written.Files)
                Assert.True(File.ReadAllBytes(file).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(committed, sub, Path.GetFileName(file)))), $"{sub}/{Path.GetFileName(file)} differs");
        }
    }
}
