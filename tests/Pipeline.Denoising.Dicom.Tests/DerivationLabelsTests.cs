namespace Pipeline.Denoising.Dicom.Tests;

public sealed class DerivationLabelsTests
{
    [Fact]
    public void By_default_a_derived_series_names_its_model_and_says_it_is_not_for_diagnostic_use()
    {
        var options = DerivationLabels.For("denoiser/1", "denoiser", "unet", DerivationLabelOptions.Default);

        Assert.Equal("denoiser/1", options.ModelVersion);
        Assert.Equal(" DENOISED NOT FOR DIAGNOSTIC USE", options.SeriesDescriptionSuffix);
        Assert.Equal("Denoised by convolutional denoising network denoiser/1 (unet), Pipeline", options.DerivationDescription);
        Assert.Equal(("Pipeline", "denoiser (unet)", "denoiser/1"), options.Equipment);
        Assert.Equal("NOT FOR DIAGNOSTIC USE. Denoised by model denoiser/1; compare with the source series.", options.ImageComments);
    }

    [Fact]
    public void Without_the_notice_the_suffix_is_the_configured_one_and_the_source_image_comments_stay()
    {
        var options = DerivationLabels.For("local/abc", "local", "cdae",
            new DerivationLabelOptions { SeriesDescriptionSuffix = " DN", NotForDiagnosticUse = false });

        Assert.Equal(" DN", options.SeriesDescriptionSuffix);
        Assert.Equal(("Pipeline", "local (cdae)", "local/abc"), options.Equipment);
        Assert.Null(options.ImageComments);
    }
}
