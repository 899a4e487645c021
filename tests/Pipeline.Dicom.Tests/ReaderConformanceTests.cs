namespace Pipeline.Dicom.Tests;

/// <summary>Files encoded by dcmtk in every uncompressed/RLE syntax decode to the pixels dcmtk itself decodes.</summary>
public sealed class ReaderConformanceTests
{
    public static TheoryData<string, string[]> DcmtkEncodings => new()
    {
        { "1.2.840.10008.1.2", ["dcmconv", "+ti"] },
        { "1.2.840.10008.1.2.1", ["dcmconv", "+te"] },
        { "1.2.840.10008.1.2.2", ["dcmconv", "+tb"] },
        { "1.2.840.10008.1.2.1.99", ["dcmconv", "+td"] },
        { "1.2.840.10008.1.2.5", ["dcmcrle"] },
        { "1.2.840.10008.1.2.5 multi-fragment", ["dcmcrle", "+fs", "1"] },
    };

    [Theory]
    [MemberData(nameof(DcmtkEncodings))]
    public void Dcmtk_encoded_file_decodes_to_dcmtk_pixels(string syntax, string[] command)
    {
        using var dir = new TempDir();
        var source = dir.File("source.dcm");
        Synthetic.Mr(rows: 70, columns: 33).Save(source);
        var encoded = dir.File("encoded.dcm");
        ExternalTool.Ok(command[0], [.. command[1..], source, encoded]);
        var reference = dir.File("reference.dcm");
        ExternalTool.Ok(syntax.StartsWith("1.2.840.10008.1.2.5", StringComparison.Ordinal) ? "dcmdrle" : "dcmconv",
            syntax.StartsWith("1.2.840.10008.1.2.5", StringComparison.Ordinal) ? [encoded, reference] : ["+te", encoded, reference]);
        var expected = ExternalTool.RawPixelData(reference, dir);

        var file = DicomFile.Open(encoded);
        Assert.Equal(syntax.Split(' ')[0], file.TransferSyntax.Uid);
        Assert.Equal(expected, file.GetPixelData().ToNativeBytes());
        Assert.Equal("Test^Patient", file.Dataset.GetString(DicomTags.PatientName));
        Assert.Equal([-100.5, -80.25, 12.5], file.Dataset.GetDoubles(DicomTags.ImagePositionPatient));
        Assert.Equal(70, file.Dataset.GetInt(DicomTags.Rows));
    }

    [Fact]
    public void Header_only_read_stops_at_pixel_data_and_reports_its_offset()
    {
        using var dir = new TempDir();
        var path = dir.File("mr.dcm");
        Synthetic.Mr().Save(path);
        var header = DicomFile.ReadHeader(path);
        Assert.False(header.Dataset.Contains(DicomTags.PixelData));
        var location = Assert.IsType<IO.PixelDataLocation>(header.PixelDataLocation);
        Assert.Equal(64 * 48 * 2, location.Length);
        // The value is the last thing in the file: offset + length = file size.
        Assert.Equal(new FileInfo(path).Length, location.ValueOffset + location.Length);
        Assert.Throws<DicomPixelDataException>(() => header.GetPixelData());
    }

    [Fact]
    public void Stored_values_and_rescale_follow_the_hand_computed_formula()
    {
        // 16-bit signed, 12 bits stored, slope 2, intercept -1000: stored -5 -> -1010; dcmtk writes the file.
        var spec = Synthetic.Spec(4, 4) with { IsSigned = true, RescaleSlope = 2, RescaleIntercept = -1000 };
        float[] values = [.. Enumerable.Range(0, 16).Select(i => (float)(-1010 + 2 * i))];
        using var dir = new TempDir();
        var path = dir.File("signed.dcm");
        MrImage.Create(spec, values).Save(path);
        var implicitPath = dir.File("implicit.dcm");
        ExternalTool.Ok("dcmconv", "+ti", path, implicitPath);
        var pixels = DicomFile.Open(implicitPath).GetPixelData();
        Assert.Equal(Enumerable.Range(0, 16).Select(i => -5 + i).ToArray(), pixels.GetStoredValues(0));
        Assert.Equal(values, pixels.GetFrame(0));
        var dump = ExternalTool.Ok("dcmdump", path);
        Assert.Contains("(0028,0106) SS -5", dump);
        Assert.Contains("(0028,0107) SS 10", dump);
    }
}
