using Pipeline.Dicom;

namespace Pipeline.Denoising.Dicom.Tests;

public sealed class DicomFolderDenoiserTests(ModelFixture model) : IClassFixture<ModelFixture>
{
    [Fact]
    public void A_folder_is_written_as_derived_series_and_each_bad_file_fails_alone_with_its_reason()
    {
        using var dir = new TempDir();
        var input = Path.Combine(dir.Path, "in");
        var sources = Directory.GetFiles(Path.Combine(SampleData.SampleStudy, "t1-noisy"), "*.dcm").Order(StringComparer.Ordinal).ToArray();
        Directory.CreateDirectory(Path.Combine(input, "nested"));
        foreach (var source in sources[..3])
            File.Copy(source, Path.Combine(input, "nested", Path.GetFileName(source)));
        var colour = ModelFixture.PaletteColour(sources[3]);
        colour.Dataset.SetString(DicomTags.SeriesInstanceUID, "1.2.3.4"); // a series of its own
        colour.Save(Path.Combine(input, "colour.dcm"));
        File.WriteAllText(Path.Combine(input, "README.txt"), "not DICOM");
        var output = Path.Combine(dir.Path, "out");
        var series = new List<(string Uid, int Instances)>();

        var outcome = new DicomFolderDenoiser(new DicomSeriesDenoiser(model.Denoiser, ModelFixture.Derivation))
            .Denoise(input, output, (uid, instances) => series.Add((uid, instances)));

        var sourceSeries = DicomFile.Open(sources[0]).Dataset.GetRequiredString(DicomTags.SeriesInstanceUID);
        Assert.Equal((sourceSeries, 3), Assert.Single(series));
        Assert.Equal(3, outcome.Written);
        var expected = sources[..3].Select(s => DerivedInstance.InstanceUid(DicomFile.Open(s).Dataset.GetRequiredString(DicomTags.SOPInstanceUID), "denoiser/1") + ".dcm");
        var folder = Path.Combine(output, DerivedInstance.SeriesUid(sourceSeries, "denoiser/1"));
        Assert.Equal(expected.Order(StringComparer.Ordinal), Directory.GetFiles(folder).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.Equal([Path.Combine(input, "README.txt"), Path.Combine(input, "colour.dcm")], outcome.Failures.Select(f => f.Path));
        Assert.Equal(colour.GetPixelData().Description.NotDenoisableReason, outcome.Failures.Single(f => f.Path.EndsWith("colour.dcm", StringComparison.Ordinal)).Reason);
    }
}
