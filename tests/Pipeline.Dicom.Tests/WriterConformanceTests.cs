namespace Pipeline.Dicom.Tests;

/// <summary>Files we write are valid for the independent tools: dciodvfy (IOD), dcmdump (encoding), GDCM (pixels).</summary>
public sealed class WriterConformanceTests
{
    [Theory]
    [InlineData(null)]
    [InlineData("ORIGINAL\\PRIMARY\\OTHER")]
    [InlineData("DERIVED\\SECONDARY")]
    public void New_MR_image_passes_dciodvfy_with_zero_errors(string? imageType)
    {
        using var dir = new TempDir();
        var path = dir.File("mr.dcm");
        // null: the default Image Type, which callers need not set.
        MrImage.Create(Synthetic.Spec(imageType: imageType?.Split('\\')), Synthetic.Pattern(64, 48)).Save(path);
        var result = ExternalTool.Run("dciodvfy", path);
        var errors = (result.StdErr + result.StdOut).Split('\n').Where(l => l.StartsWith("Error", StringComparison.Ordinal)).ToList();
        Assert.True(errors.Count == 0 && result.ExitCode == 0, string.Join('\n', errors) + result.StdErr);
    }

    [Theory]
    [InlineData("explicit-le", "1.2.840.10008.1.2.1")]
    [InlineData("implicit-le", "1.2.840.10008.1.2")]
    [InlineData("big-endian", "1.2.840.10008.1.2.2")]
    [InlineData("deflate", "1.2.840.10008.1.2.1.99")]
    [InlineData("rle", "1.2.840.10008.1.2.5")]
    public void Written_syntax_is_read_by_dcmtk_with_identical_pixels(string name, string uid)
    {
        using var dir = new TempDir();
        var source = Synthetic.Mr();
        var path = dir.File(name + ".dcm");
        source.Save(path, TransferSyntax.FromUid(uid));

        var dump = ExternalTool.Ok("dcmdump", "-M", "+L", "-Un", path);
        Assert.Contains($"(0002,0010) UI [{uid}]", dump);
        Assert.Contains("[Test^Patient]", dump);
        Assert.Contains(@"[-100.5\-80.25\12.5]", dump);

        // dcmtk decodes to Explicit VR Little Endian; GDCM extracts the pixel value bytes.
        var native = dir.File("native.dcm");
        var tool = uid == TransferSyntax.RleLossless.Uid ? "dcmdrle" : "dcmconv";
        if (tool == "dcmdrle") ExternalTool.Ok("dcmdrle", path, native);
        else ExternalTool.Ok("dcmconv", "+te", path, native);
        var expected = Synthetic.Pattern(64, 48, 1).SelectMany(v => BitConverter.GetBytes((ushort)v)).ToArray();
        Assert.Equal(expected, ExternalTool.RawPixelData(native, dir));
    }
}
