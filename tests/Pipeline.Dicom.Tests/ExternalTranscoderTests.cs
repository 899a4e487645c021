namespace Pipeline.Dicom.Tests;

/// <summary>JPEG-LS / JPEG 2000 through the optional external transcoder (GDCM's gdcmconv), off by default.</summary>
public sealed class ExternalTranscoderTests
{
    private static readonly DicomReadOptions WithGdcmconv = new() { ExternalTranscoderPath = "/usr/bin/gdcmconv" };

    /// <summary>gdcmconv-compressed copy of a source; the source's own native pixel bytes (read by gdcmraw) are the lossless truth.</summary>
    private static (string Encoded, byte[] SourcePixels) Compress(TempDir dir, string source, params string[] options)
    {
        var encoded = dir.File("compressed.dcm");
        ExternalTool.Ok("gdcmconv", [.. options, source, encoded]);
        return (encoded, ExternalTool.RawPixelData(source, dir));
    }

    [Theory]
    [InlineData("--jpegls", "1.2.840.10008.1.2.4.80")]
    [InlineData("--j2k", "1.2.840.10008.1.2.4.90")]
    public void Lossless_jpegls_and_j2k_decode_to_the_source_pixels(string option, string uid)
    {
        using var dir = new TempDir();
        var (encoded, expected) = Compress(dir, JpegDctConformanceTests.SampleSlice(), option);
        var file = DicomFile.Open(encoded, WithGdcmconv);
        Assert.Equal(uid, file.TransferSyntax.Uid);
        Assert.Equal(expected, file.GetPixelData().ToNativeBytes());
    }

    [Fact]
    public void Multi_frame_signed_dcmcjpls_file_matches_the_source_and_dcmdjpls()
    {
        using var dir = new TempDir();
        var source = dir.File("source.dcm");
        var image = Synthetic.Image(16, 16, true, frames: 3);
        image.Dataset.SetString(DicomTags.SOPClassUID, "1.2.840.10008.5.1.4.1.1.7.3"); // GDCM refuses multi-frame in the single-frame SC class
        image.Save(source);
        var expected = ExternalTool.RawPixelData(source, dir);
        var encoded = dir.File("jpegls.dcm");
        ExternalTool.Ok("dcmcjpls", source, encoded); // encoded by dcmtk, decoded by GDCM
        var dcmtk = dir.File("dcmdjpls.dcm");
        ExternalTool.Ok("dcmdjpls", encoded, dcmtk);
        Assert.Equal(expected, ExternalTool.RawPixelData(dcmtk, dir));
        var pixels = DicomFile.Open(encoded, WithGdcmconv).GetPixelData();
        Assert.Equal(3, pixels.FrameCount);
        Assert.Equal(expected, pixels.ToNativeBytes());
    }

    [Fact]
    public void Lossy_j2k_decodes_to_what_gdcm_decodes_and_transcodes_to_native()
    {
        using var dir = new TempDir();
        var (encoded, _) = Compress(dir, JpegDctConformanceTests.SampleSlice(), "--j2k", "--lossy", "-q", "40");
        var reference = dir.File("gdcm-raw.dcm");
        ExternalTool.Ok("gdcmconv", "--raw", encoded, reference);
        var expected = ExternalTool.RawPixelData(reference, dir);
        var file = DicomFile.Open(encoded, WithGdcmconv);
        Assert.Equal("1.2.840.10008.1.2.4.91", file.TransferSyntax.Uid);
        Assert.Equal(expected, file.GetPixelData().ToNativeBytes());

        var native = dir.File("native.dcm");
        file.Save(native, TransferSyntax.ExplicitVRLittleEndian);
        Assert.Equal(expected, ExternalTool.RawPixelData(native, dir));
    }

    [Fact]
    public void Without_the_option_j2k_is_an_unsupported_syntax()
    {
        using var dir = new TempDir();
        var (encoded, _) = Compress(dir, JpegDctConformanceTests.SampleSlice(), "--j2k");
        var e = Assert.Throws<DicomUnsupportedTransferSyntaxException>(() => DicomFile.Open(encoded).GetPixelData());
        Assert.Equal("unsupported transfer syntax 1.2.840.10008.1.2.4.90 (JPEG 2000 Image Compression (Lossless Only))", e.Message);
    }

    [Fact]
    public void A_missing_or_failing_transcoder_is_a_pixel_data_error()
    {
        using var dir = new TempDir();
        var (encoded, _) = Compress(dir, JpegDctConformanceTests.SampleSlice(), "--jpegls");
        var missing = Assert.Throws<DicomPixelDataException>(() =>
            DicomFile.Open(encoded, new DicomReadOptions { ExternalTranscoderPath = "/nonexistent/gdcmconv" }).GetPixelData());
        Assert.StartsWith("external transcoder /nonexistent/gdcmconv cannot be run for 1.2.840.10008.1.2.4.80", missing.Message);
        var failing = Assert.Throws<DicomPixelDataException>(() =>
            DicomFile.Open(encoded, new DicomReadOptions { ExternalTranscoderPath = "/bin/false" }).GetPixelData());
        Assert.StartsWith("external transcoder /bin/false failed on 1.2.840.10008.1.2.4.80 (JPEG-LS Lossless Image Compression) (exit 1)", failing.Message);
    }
}
