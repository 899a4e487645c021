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

/// <summary>Lossy DCT JPEG made by dcmcjpeg (IJG libjpeg) decodes to exactly the samples dcmdjpeg (IJG islow IDCT) produces.</summary>
public sealed class JpegDctConformanceTests
{
    /// <summary>A real MR slice (the committed sample study, Colin27 T1 with Rician noise): 181x217, 12 bits stored.</summary>
    internal static string SampleSlice(string series = "t1-noisy", int slice = 8)
    {
        var root = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(root, "Pipeline.sln"))) root = Path.GetDirectoryName(root) ?? throw new InvalidOperationException("repository root not found");
        return Path.Combine(root, "tests", "data", "sample-study", series, $"{slice:D4}.dcm");
    }

    public static TheoryData<string, string> MrCases() => new()
    {
        { "t1-noisy", "+eb" },
        { "t1-noisy", "+eb +q 50" },
        { "t1-noisy", "+eb +q 100" },
        { "t1", "+eb +q 5 -ho" },
        { "t1", "+eb +Wm" },
        { "t1-noisy", "+ee" },
        { "t1-noisy", "+ee +q 30" },
        { "t1", "+ee +q 100" },
        { "t1", "+ee +be" },
    };

    [Theory]
    [MemberData(nameof(MrCases))]
    public void Mr_slice_matches_dcmdjpeg(string series, string options)
    {
        using var dir = new TempDir();
        var encoded = dir.File("jpeg.dcm");
        ExternalTool.Ok("dcmcjpeg", [.. options.Split(' '), SampleSlice(series), encoded]);
        AssertMatchesDcmdjpeg(encoded, dir);
    }

    public static TheoryData<int, int, bool, int, int, string> SyntheticCases() => new()
    {
        { 8, 8, false, 1, 3, "+eb" },
        { 16, 12, false, 1, 2, "+ee +q 75" },
        { 16, 16, true, 1, 1, "+ee +q 95" },
        { 8, 8, false, 1, 3, "+eb -ot +fs 1" },
    };

    [Theory]
    [MemberData(nameof(SyntheticCases))]
    public void Synthetic_image_matches_dcmdjpeg(int bitsAllocated, int bitsStored, bool signed, int samples, int frames, string options)
    {
        using var dir = new TempDir();
        var source = dir.File("source.dcm");
        Synthetic.Image(bitsAllocated, bitsStored, signed, samples, frames).Save(source);
        var encoded = dir.File("jpeg.dcm");
        ExternalTool.Ok("dcmcjpeg", [.. options.Split(' '), source, encoded]);
        AssertMatchesDcmdjpeg(encoded, dir);
    }

    internal static void AssertMatchesDcmdjpeg(string encoded, TempDir dir)
    {
        var decoded = dir.File("decoded.dcm");
        ExternalTool.Ok("dcmdjpeg", encoded, decoded);
        var expected = ExternalTool.RawPixelData(decoded, dir);
        var file = DicomFile.Open(encoded);
        Assert.Contains(file.TransferSyntax.Uid, new[] { TransferSyntax.JpegBaseline.Uid, TransferSyntax.JpegExtended.Uid });
        var actual = file.GetPixelData().ToNativeBytes();
        Assert.Equal(expected.Length, actual.Length);
        int first = expected.AsSpan().CommonPrefixLength(actual);
        Assert.True(first == expected.Length, $"first difference at byte {first} of {expected.Length}");
    }
}
