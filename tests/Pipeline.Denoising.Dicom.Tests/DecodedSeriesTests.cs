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
    public void A_rescale_that_overflows_the_float_modality_values_fails_its_instance_alone_and_the_others_are_derived()
    {
        // Finite DS values, but stored x slope + intercept is beyond what the series' normalisation can hold: caught at
        // decode, so the rest of the series is normalised and denoised as if the instance were absent.
        var instances = Files.Select(f => (DicomFile?)DicomFile.Open(f)).ToList();
        instances[2]!.Dataset.SetString(DicomTags.RescaleSlope, "1e308");
        instances[5]!.Dataset.SetString(DicomTags.RescaleIntercept, "1e300");

        var outcomes = new DicomSeriesDenoiser(model.Denoiser, ModelFixture.Derivation).Denoise(instances);

        Assert.StartsWith("Rescale Slope 1E+308 / Intercept 0 make the modality values of stored values 0..4095 reach beyond", outcomes[2]!.FailureReason);
        Assert.StartsWith("Rescale Slope 1 / Intercept 1E+300 make", outcomes[5]!.FailureReason);
        Assert.All(new[] { 2, 5 }, i => Assert.Equal(nameof(DicomPixelDataException), outcomes[i]!.ErrorType));
        Assert.All(Enumerable.Range(0, Files.Length).Except([2, 5]), i => Assert.NotNull(outcomes[i]!.Derived));
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
