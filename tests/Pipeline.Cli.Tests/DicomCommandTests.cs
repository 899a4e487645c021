namespace Pipeline.Cli.Tests;

/// <summary>The dicom verbs on compressed files, checked against dcmtk's and GDCM's decoders.</summary>
public sealed class DicomCommandTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static string Slice => Path.Combine(SampleData.SampleStudy, "t1-noisy", "0008.dcm");

    [Theory]
    [InlineData("+eb")]
    [InlineData("+ee")]
    public void Pixels_of_lossy_jpeg_equal_dcmdjpeg_pixel_data(string options)
    {
        var jpeg = _dir.File("jpeg.dcm");
        ExternalTool.Ok("dcmcjpeg", options, Slice, jpeg);
        var reference = _dir.File("dcmdjpeg.dcm");
        ExternalTool.Ok("dcmdjpeg", jpeg, reference);
        var raw = _dir.File("pixels.raw");
        var run = PipelineCli.Run("dicom", "pixels", jpeg, raw);
        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.Equal(ExternalTool.RawPixelData(reference, _dir), File.ReadAllBytes(raw));
    }

    [Fact]
    public void Jpeg2000_needs_the_transcoder_option_and_then_decodes_to_the_source_pixels()
    {
        var j2k = _dir.File("j2k.dcm");
        ExternalTool.Ok("gdcmconv", "--j2k", Slice, j2k);
        var raw = _dir.File("pixels.raw");
        var refused = PipelineCli.Run("dicom", "pixels", j2k, raw);
        Assert.Equal(1, refused.ExitCode);
        Assert.Equal("error: unsupported transfer syntax 1.2.840.10008.1.2.4.90 (JPEG 2000 Image Compression (Lossless Only))", refused.Stderr.Trim());

        var run = PipelineCli.Run("dicom", "pixels", j2k, raw, "--transcoder", "/usr/bin/gdcmconv");
        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.Equal(ExternalTool.RawPixelData(Slice, _dir), File.ReadAllBytes(raw));

        var native = _dir.File("native.dcm");
        Assert.Equal(0, PipelineCli.Run("dicom", "transcode", j2k, native, "--syntax", "explicit-le", "--transcoder", "/usr/bin/gdcmconv").ExitCode);
        Assert.Contains("(0002,0010) UI =LittleEndianExplicit", ExternalTool.Ok("dcmdump", native));
        Assert.Equal(ExternalTool.RawPixelData(Slice, _dir), ExternalTool.RawPixelData(native, _dir));
    }
}
