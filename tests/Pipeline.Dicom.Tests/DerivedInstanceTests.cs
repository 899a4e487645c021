namespace Pipeline.Dicom.Tests;

/// <summary>The derived (denoised) instance: valid IOD, deterministic UIDs, preserved geometry.</summary>
public sealed class DerivedInstanceTests
{
    private static DicomFile Derive(DicomFile source, string model = "v7")
    {
        var pixels = source.GetPixelData();
        var frame = pixels.GetFrame(0).Select(v => v * 0.5f + 3).ToArray();
        return DerivedInstance.Create(source.Dataset, [frame], new DerivationOptions { ModelVersion = model });
    }

    [Fact]
    public void Derived_instance_passes_dciodvfy_and_dcmdump_shows_the_derivation()
    {
        using var dir = new TempDir();
        var path = dir.File("derived.dcm");
        Derive(Synthetic.Mr()).Save(path);
        var result = ExternalTool.Run("dciodvfy", path);
        var errors = (result.StdErr + result.StdOut).Split('\n').Where(l => l.StartsWith("Error", StringComparison.Ordinal)).ToList();
        Assert.True(errors.Count == 0 && result.ExitCode == 0, string.Join('\n', errors));
        var dump = ExternalTool.Ok("dcmdump", "-Un", path);
        Assert.Contains(@"(0008,0008) CS [DERIVED\SECONDARY\OTHER]", dump);
        Assert.Contains("(0008,103e) LO [T1 synthetic DENOISED]", dump);
        Assert.Contains("(0020,0011) IS [1003]", dump);
        Assert.Contains($"(0008,1155) UI [{Synthetic.Spec().SopInstanceUid}]", dump);
        Assert.Contains("(0008,0100) SH [113087]", dump);
        Assert.Contains(@"(0020,0032) DS [-100.5\-80.25\12.5]", dump);
        Assert.Contains("(0010,0020) LO [PID-001]", dump);
    }

    [Fact]
    public void Derived_uids_depend_only_on_source_uid_and_model_version()
    {
        var source = Synthetic.Mr();
        var a = Derive(source, "v7").Dataset;
        var b = Derive(source, "v7").Dataset;
        var c = Derive(source, "v8").Dataset;
        Assert.Equal(a.GetString(DicomTags.SOPInstanceUID), b.GetString(DicomTags.SOPInstanceUID));
        Assert.Equal(a.GetString(DicomTags.SeriesInstanceUID), b.GetString(DicomTags.SeriesInstanceUID));
        Assert.NotEqual(a.GetString(DicomTags.SOPInstanceUID), c.GetString(DicomTags.SOPInstanceUID));
        Assert.NotEqual(source.Dataset.GetString(DicomTags.SOPInstanceUID), a.GetString(DicomTags.SOPInstanceUID));
        Assert.StartsWith("2.25.", a.GetString(DicomTags.SOPInstanceUID));
        Assert.True(DicomUid.IsValid(a.GetString(DicomTags.SOPInstanceUID)!));
        Assert.Equal(source.Dataset.GetString(DicomTags.StudyInstanceUID), a.GetString(DicomTags.StudyInstanceUID));
    }

    [Fact]
    public void Derived_pixels_are_reencoded_in_source_bits_with_true_extremes()
    {
        var source = Synthetic.Mr();
        var derived = Derive(source);
        var expected = source.GetPixelData().GetStoredValues(0).Select(v => (int)Math.Round(v * 0.5 + 3, MidpointRounding.AwayFromZero)).ToArray();
        var pixels = derived.GetPixelData();
        Assert.Equal(expected, pixels.GetStoredValues(0));
        Assert.Equal(12, pixels.Description.BitsStored);
        Assert.Equal(expected.Min(), derived.Dataset.GetInt(DicomTags.SmallestImagePixelValue));
        Assert.Equal(expected.Max(), derived.Dataset.GetInt(DicomTags.LargestImagePixelValue));
    }

    [Theory]
    [InlineData(1, "PALETTE COLOR", "PALETTE COLOR image: only grey-scale (MONOCHROME1 or MONOCHROME2) images are denoised")]
    [InlineData(3, "RGB", "colour image (3 samples per pixel, RGB): only single-channel images are denoised")]
    public void A_source_that_is_not_grey_is_refused_with_the_reason_its_header_gives(int samples, string photometric, string reason)
    {
        var source = Synthetic.Image(16, 12, signed: false, samples);
        source.Dataset.SetString(DicomTags.PhotometricInterpretation, photometric);

        Assert.Equal(reason, PixelDescription.NotDenoisableReasonOf(source));
        var e = Assert.Throws<DicomPixelDataException>(() => DerivedInstance.Create(source.Dataset, [new float[40 * 37]], new DerivationOptions { ModelVersion = "v7" }));
        Assert.Equal(reason, e.Message);
    }

    [Fact]
    public void A_grey_source_is_denoisable_by_its_header()
    {
        Assert.Null(PixelDescription.NotDenoisableReasonOf(Synthetic.Mr()));
        Assert.Null(Synthetic.Mr().GetPixelData().Description.NotDenoisableReason);
    }
}
