namespace Pipeline.Dicom.Tests;

/// <summary>Encapsulated syntaxes produced by dcmtk decode to exactly the bytes dcmtk's decoders produce.</summary>
public sealed class CompressedConformanceTests
{
    public static TheoryData<int, int, bool, int, int, string> LosslessCases()
    {
        var data = new TheoryData<int, int, bool, int, int, string>();
        for (int sv = 1; sv <= 7; sv++)
        {
            data.Add(16, 16, false, 1, 1, $"+el +sv {sv}");
            data.Add(16, 12, false, 1, 1, $"+el +sv {sv}");
            data.Add(8, 8, false, 1, 1, $"+el +sv {sv}");
        }
        data.Add(16, 16, true, 1, 1, "+el +sv 6");
        data.Add(16, 12, false, 1, 3, "+e1");
        data.Add(16, 12, false, 1, 3, "+e1 -ot +fs 1");
        data.Add(16, 12, false, 1, 1, "+el +sv 4 +pt 2");
        data.Add(8, 8, false, 3, 2, "+el +sv 7");
        return data;
    }

    [Theory]
    [MemberData(nameof(LosslessCases))]
    public void Jpeg_lossless_matches_dcmdjpeg(int bitsAllocated, int bitsStored, bool signed, int samples, int frames, string options)
    {
        using var dir = new TempDir();
        var source = dir.File("source.dcm");
        Synthetic.Image(bitsAllocated, bitsStored, signed, samples, frames).Save(source);
        var encoded = dir.File("jpeg.dcm");
        ExternalTool.Ok("dcmcjpeg", [.. options.Split(' '), source, encoded]);
        var decoded = dir.File("decoded.dcm");
        ExternalTool.Ok("dcmdjpeg", encoded, decoded);
        var expected = ExternalTool.RawPixelData(decoded, dir);

        var file = DicomFile.Open(encoded);
        Assert.True(file.Dataset[DicomTags.PixelData] is DicomFragments);
        Assert.Equal(expected, file.GetPixelData().ToNativeBytes());
    }
}
