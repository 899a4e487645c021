namespace Pipeline.Dicom.Tests;

/// <summary>1-bit pixels (PS3.5 8.1.1), as segmentations carry: readable, frame by frame, though not denoisable.</summary>
public sealed class BitPackedPixelTests
{
    [Theory]
    [InlineData("+te")]
    [InlineData("+ti")]
    [InlineData("+td")]
    [InlineData("+tb")]
    public void Frames_that_start_mid_byte_decode_to_the_values_dcmtk_renders(string syntax)
    {
        using var dir = new TempDir();
        var path = dir.File("converted.dcm");
        ExternalTool.Ok("dcmconv", syntax, BinaryImage.Write(dir.File("binary.dcm"), dir), path);
        var pgm = dir.File("frame.pgm");
        ExternalTool.Ok("dcmj2pnm", "+Fa", path, pgm); // renders each frame: stored 1 -> 255, 0 -> 0

        var pixels = DicomFile.Open(path).GetPixelData();

        Assert.Equal(BinaryImage.Frames, pixels.FrameCount);
        var frame = BinaryImage.Rows * BinaryImage.Columns;
        for (var f = 0; f < BinaryImage.Frames; f++)
        {
            var rendered = File.ReadAllBytes($"{pgm}.{f}.pgm")[^frame..].Select(v => v == 0 ? 0 : 1);
            Assert.Equal(rendered, pixels.GetStoredValues(f));
            Assert.Equal(BinaryImage.Pixels.Skip(f * frame).Take(frame), pixels.GetStoredValues(f));
            Assert.Equal(pixels.GetStoredValues(f).Select(v => (float)v), pixels.GetFrame(f));
        }
    }

    [Fact]
    public void The_native_bytes_are_the_packed_pixel_data_gdcm_reads_and_the_image_is_not_denoisable_by_the_one_rule()
    {
        using var dir = new TempDir();
        var path = BinaryImage.Write(dir.File("binary.dcm"), dir);
        const string reason = "binary image (Bits Allocated 1, as masks and segmentations carry): only grey-scale images are denoised";

        var pixels = DicomFile.Open(path).GetPixelData();

        Assert.Equal(ExternalTool.RawPixelData(path, dir), pixels.ToNativeBytes());
        Assert.Equal(reason, pixels.Description.NotDenoisableReason);
        Assert.Equal(reason, PixelDescription.NotDenoisableReasonOf(DicomFile.ReadHeader(path)));
    }
}
