using Pipeline.Dicom;

namespace Pipeline.Denoising.Dicom.Tests;

public sealed class DecodedSeriesTests(ModelFixture model) : IClassFixture<ModelFixture>
{
    private static readonly string[] Files = [.. Directory.GetFiles(Path.Combine(SampleData.SampleStudy, "t1-noisy"), "*.dcm").Order(StringComparer.Ordinal)];

    [Fact]
    public void An_instance_that_is_not_grey_fails_alone_with_the_rule_s_reason_and_an_unparsed_one_is_left_to_the_caller()
    {
        var colour = ModelFixture.PaletteColour(Files[1]);
        DicomFile?[] instances = [DicomFile.Open(Files[0]), colour, null, DicomFile.Open(Files[3])];

        var outcomes = new DicomSeriesDenoiser(model.Denoiser, ModelFixture.Derivation).Denoise(instances);

        Assert.Equal(colour.GetPixelData().Description.NotDenoisableReason, outcomes[1]!.FailureReason);
        Assert.Equal("NotSupportedException", outcomes[1]!.ErrorType);
        Assert.Null(outcomes[1]!.Derived);
        Assert.Null(outcomes[2]);
        foreach (var i in new[] { 0, 3 })
        {
            var derived = outcomes[i]!.Derived!.Dataset;
            Assert.Equal(DerivedInstance.InstanceUid(instances[i]!.Dataset.GetRequiredString(DicomTags.SOPInstanceUID), "denoiser/1"),
                derived.GetString(DicomTags.SOPInstanceUID));
            Assert.EndsWith(" DENOISED NOT FOR DIAGNOSTIC USE", derived.GetString(DicomTags.SeriesDescription), StringComparison.Ordinal);
        }
    }

    [Fact]
    public void The_noise_figures_come_from_an_evenly_spaced_sample_and_show_less_noise_after()
    {
        var instances = Files.Select(f => (DicomFile?)DicomFile.Open(f)).ToList();
        var series = DecodedSeries.Decode(instances);
        var slices = 0;
        series.Denoise(model.Denoiser, n => slices += n);
        var outcomes = series.Derive(ModelFixture.Derivation);

        Assert.Equal(instances.Count, slices);
        var stride = (instances.Count + DecodedSeries.NoiseSampleInstances - 1) / DecodedSeries.NoiseSampleInstances;
        for (var i = 0; i < outcomes.Count; i++)
        {
            Assert.NotNull(outcomes[i]!.Derived);
            Assert.Equal(i % stride == 0, double.IsFinite(outcomes[i]!.NoiseInput));
            if (i % stride == 0) Assert.True(outcomes[i]!.NoiseOutput < outcomes[i]!.NoiseInput);
        }
    }
}
