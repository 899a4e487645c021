using Pipeline.Denoising.Models;
using Pipeline.Denoising.Training.Training;
using Pipeline.Imaging;

namespace Pipeline.Denoising.Training.Tests;

/// <summary>The split of training volumes by slice position and the lineage a model manifest records for it.</summary>
public sealed class TrainingDataSetTests
{
    /// <summary>A volume whose slice k holds the value k + 1 everywhere, so a series shows which slices it took.</summary>
    private static Volume Numbered(int depth) =>
        new(Enumerable.Range(0, depth).Select(k => new Image(8, 8, Enumerable.Repeat(k + 1f, 64).ToArray())).ToArray(), VolumeGeometry.Identity());

    private static int[] SliceNumbers(TrainingSeries series) => series.Slices.Select(s => (int)s.Pixels[0] - 1).ToArray();

    [Fact]
    public void Lower_seventy_percent_train_the_next_ten_percent_validate_and_the_top_is_never_read()
    {
        // 16 slices: floor(11.2) = 11 train (0-10), floor(1.6) = 1 validates (11), 12-15 are the test set.
        var data = TrainingDataSet.Split([new TrainingVolume("data/t1", "aa", Numbered(16))]);

        Assert.Equal(Enumerable.Range(0, 11), SliceNumbers(data.Training.Single()));
        Assert.Equal([11], SliceNumbers(data.Validation.Single()));
        Assert.Equal(10, data.Splits.Single().TrainLast);
        Assert.Equal(12, data.Splits.Single().TestFirst);
    }

    [Fact]
    public void Each_volume_gives_its_train_then_validation_ranges_with_its_source_and_hash()
    {
        var data = TrainingDataSet.Split(
            [new TrainingVolume("/in/vol.nii", "11", Numbered(20)), new TrainingVolume("/in/t1", "22", Numbered(16))],
            trainFraction: 0.6, validationFraction: 0.25);

        Assert.Equal(
            [
                new DataLineage("/in/vol.nii", "11", "train", 0, 11),
                new DataLineage("/in/vol.nii", "11", "validation", 12, 16),
                new DataLineage("/in/t1", "22", "train", 0, 8),
                new DataLineage("/in/t1", "22", "validation", 9, 12),
            ],
            data.Lineage);
        Assert.Equal(["vol.nii", "t1"], data.Training.Select(s => s.Name));
        Assert.Equal(["vol.nii", "t1"], data.Validation.Select(s => s.Name));
        Assert.Equal(Enumerable.Range(12, 5), SliceNumbers(data.Validation[0]));
        Assert.Equal(Enumerable.Range(0, 9), SliceNumbers(data.Training[1]));
    }

    [Fact]
    public void A_volume_too_thin_for_a_validation_slice_is_refused()
    {
        // 9 slices: 6 train, floor(0.9) = 0 validate.
        Assert.ThrowsAny<ArgumentException>(() => TrainingDataSet.Split([new TrainingVolume("thin", "", Numbered(9))]));
    }

    [Fact]
    public void A_files_hash_is_its_SHA256_and_a_folders_covers_its_own_files_names_and_hashes_in_ordinal_order()
    {
        var folder = Directory.CreateTempSubdirectory("lineage-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(folder, "a.dcm"), "");
            File.WriteAllText(Path.Combine(folder, "B.dcm"), "abc");
            Directory.CreateDirectory(Path.Combine(folder, "sub"));
            File.WriteAllText(Path.Combine(folder, "sub", "c.dcm"), "not read");

            Assert.Equal("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", DataLineage.Sha256Of(Path.Combine(folder, "B.dcm")));
            // SHA-256 of "B.dcm <sha of abc>\na.dcm <sha of nothing>\n" (upper case sorts first).
            Assert.Equal("860ee8646773a2af34ee61c08fa3d24f915f303882e92e52da148d8c829ea0ac", DataLineage.Sha256Of(folder));

            File.Move(Path.Combine(folder, "a.dcm"), Path.Combine(folder, "c.dcm"));
            Assert.Equal("8548eb4e4678b4a79a546761b032a03998134ee519cc1c1134fcc3292f0b4313", DataLineage.Sha256Of(folder));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
