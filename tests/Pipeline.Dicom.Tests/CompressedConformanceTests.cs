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
    [InlineData(8, 8, false, 1, 2)]
    [InlineData(16, 12, true, 1, 1)]
    [InlineData(16, 16, false, 1, 3)]
    [InlineData(32, 32, true, 1, 1)]
    [InlineData(8, 8, false, 3, 2)]
    [InlineData(16, 16, false, 3, 1)]
    public void Rle_matches_dcmdrle_for_every_byte_layout(int bitsAllocated, int bitsStored, bool signed, int samples, int frames)
    {
        using var dir = new TempDir();
        var source = dir.File("source.dcm");
        Synthetic.Image(bitsAllocated, bitsStored, signed, samples, frames).Save(source);
        var encoded = dir.File("rle.dcm");
        ExternalTool.Ok("dcmcrle", source, encoded);
        var decoded = dir.File("decoded.dcm");
        ExternalTool.Ok("dcmdrle", encoded, decoded);
        var file = DicomFile.Open(encoded);
        Assert.Equal(TransferSyntax.RleLossless, file.TransferSyntax);
        var pixels = file.GetPixelData();
        Assert.Equal(ExternalTool.RawPixelData(decoded, dir), pixels.ToNativeBytes());
        // The reused-buffer path of GetFrame gives the same values as the decoded bytes.
        Assert.Equal(pixels.GetStoredValues(frames - 1).Select(v => (float)v), pixels.GetFrame(frames - 1));
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
    internal static string SampleSlice(string series = "t1-noisy", int slice = 8) =>
        Path.Combine(SampleData.SampleStudy, series, $"{slice:D4}.dcm");

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
        { 8, 8, false, 3, 1, "+eb" },
        { 8, 8, false, 3, 2, "+eb +n1" },
        { 8, 8, false, 3, 1, "+eb +s4" },
        { 8, 8, false, 3, 1, "+eb +np" },
        { 8, 8, false, 3, 1, "+eb +cr" },
        { 16, 12, false, 3, 1, "+ee +n2" },
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

    /// <summary>cjpeg (libjpeg-turbo) options dcmcjpeg does not offer: restart intervals, chroma 1x2, one scan per component.</summary>
    public static TheoryData<bool, string> CjpegCases() => new()
    {
        { false, "-grayscale -restart 5B -quality 80" },
        { false, "-grayscale -restart 1 -quality 95 -optimize" },
        { false, "-grayscale -restart 1B -quality 40" },
        { true, "-restart 2B -sample 2x2 -quality 85" },
        { true, "-restart 1 -sample 2x1 -quality 70" },
        { true, "-restart 7B -sample 1x1 -quality 90" },
        { true, "-sample 1x2 -quality 85" },
        { true, "-scans {scans} -restart 3B -quality 85" },
    };

    [Theory]
    [MemberData(nameof(CjpegCases))]
    public void Cjpeg_codestream_wrapped_by_img2dcm_matches_dcmdjpeg(bool colour, string options)
    {
        using var dir = new TempDir();
        var grey = dir.File("slice.pgm");
        ExternalTool.Ok("dcmj2pnm", "+Wm", SampleSlice(), grey);
        var input = colour ? Colourise(grey, dir.File("slice.ppm")) : grey;
        var scans = dir.File("scans.txt");
        File.WriteAllText(scans, "0;\n1;\n2;\n"); // sequential, one non-interleaved scan per component
        var jpeg = dir.File("slice.jpg");
        ExternalTool.Ok("cjpeg", [.. options.Replace("{scans}", scans, StringComparison.Ordinal).Split(' '), "-outfile", jpeg, input]);
        var encoded = dir.File("jpeg.dcm");
        ExternalTool.Ok("img2dcm", jpeg, encoded);
        AssertMatchesDcmdjpeg(encoded, dir);
    }

    [Fact]
    public void Quantisation_table_redefined_between_scans_is_taken_as_libjpeg_takes_it()
    {
        using var dir = new TempDir();
        var grey = dir.File("slice.pgm");
        ExternalTool.Ok("dcmj2pnm", "+Wm", SampleSlice(), grey);
        var scans = dir.File("scans.txt");
        File.WriteAllText(scans, "0;\n1;\n2;\n");
        var jpeg = dir.File("slice.jpg");
        ExternalTool.Ok("cjpeg", "-scans", scans, "-quality", "85", "-outfile", jpeg, Colourise(grey, dir.File("slice.ppm")));
        // Before the third scan (Cr), redefine table 1 with the values 1..64: Cb's scan used the old table 1.
        var bytes = File.ReadAllBytes(jpeg).ToList();
        var sos = Enumerable.Range(0, bytes.Count - 1).Where(i => bytes[i] == 0xFF && bytes[i + 1] == 0xDA).ToList();
        Assert.Equal(3, sos.Count);
        bytes.InsertRange(sos[2], [0xFF, 0xDB, 0x00, 0x43, 0x01, .. Enumerable.Range(1, 64).Select(v => (byte)v)]);
        File.WriteAllBytes(jpeg, bytes.ToArray());
        var encoded = dir.File("jpeg.dcm");
        ExternalTool.Ok("img2dcm", jpeg, encoded);
        AssertMatchesDcmdjpeg(encoded, dir);
    }

    [Theory]
    [InlineData("+eb")]
    [InlineData("+ee")]
    public void A_sequential_scan_whose_header_says_Ss_0_Se_0_is_read_as_libjpeg_reads_it(string options)
    {
        // Some encoders write zeros for Ss/Se in sequential scans; IJG libjpeg warns ("Invalid SOS parameters for
        // sequential JPEG") and decodes the full blocks anyway, and so must we.
        using var dir = new TempDir();
        var encoded = dir.File("jpeg.dcm");
        ExternalTool.Ok("dcmcjpeg", options, SampleSlice(), encoded);
        var bytes = File.ReadAllBytes(encoded);
        int sos = bytes.AsSpan().IndexOf([(byte)0xFF, (byte)0xDA]);
        int spectral = sos + 5 + 2 * bytes[sos + 4]; // FFDA, Ls (2 bytes), Ns, Ns x (Cs, Td/Ta), then Ss, Se, Ah/Al
        Assert.Equal([0, 63, 0], bytes[spectral..(spectral + 3)]);
        bytes[spectral + 1] = 0;
        File.WriteAllBytes(encoded, bytes);

        AssertMatchesDcmdjpeg(encoded, dir);
    }

    /// <summary>A binary PPM whose three channels differ everywhere (grey, inverted grey + x, a ramp), from a binary PGM.</summary>
    private static string Colourise(string pgm, string ppm)
    {
        var bytes = File.ReadAllBytes(pgm);
        var header = System.Text.Encoding.ASCII.GetString(bytes, 0, 64).Split((char[])['\n', ' '], 5, StringSplitOptions.RemoveEmptyEntries);
        int width = int.Parse(header[1], System.Globalization.CultureInfo.InvariantCulture), height = int.Parse(header[2], System.Globalization.CultureInfo.InvariantCulture);
        var grey = bytes.AsSpan(bytes.Length - width * height);
        using var output = File.Create(ppm);
        output.Write(System.Text.Encoding.ASCII.GetBytes($"P6\n{width} {height}\n255\n"));
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
            {
                byte v = grey[y * width + x];
                output.Write([v, (byte)(255 - v + x), (byte)(3 * y + x)]);
            }
        return ppm;
    }

    [Theory]
    [InlineData("+ep", "unsupported transfer syntax 1.2.840.10008.1.2.4.55 (JPEG Full Progression, Non-Hierarchical (Process 10 & 12) (Retired))")]
    [InlineData("+es", "unsupported transfer syntax 1.2.840.10008.1.2.4.53 (JPEG Spectral Selection, Non-Hierarchical (Process 6 & 8) (Retired))")]
    public void Progressive_and_spectral_selection_are_unsupported_syntaxes(string options, string message)
    {
        using var dir = new TempDir();
        var encoded = dir.File("jpeg.dcm");
        ExternalTool.Ok("dcmcjpeg", options, SampleSlice(), encoded);
        var e = Assert.Throws<DicomUnsupportedTransferSyntaxException>(() => DicomFile.Open(encoded).GetPixelData());
        Assert.Equal(message, e.Message);
    }

    internal static void AssertMatchesDcmdjpeg(string encoded, TempDir dir)
    {
        var decoded = dir.File("decoded.dcm");
        ExternalTool.Ok("dcmdjpeg", encoded, decoded);
        var expected = ExternalTool.RawPixelData(decoded, dir);
        var file = DicomFile.Open(encoded);
        Assert.Contains(file.TransferSyntax.Uid, new[] { TransferSyntax.JpegBaseline.Uid, TransferSyntax.JpegExtended.Uid });
        var pixels = file.GetPixelData();
        Assert.Equal(DicomFile.Open(decoded).Dataset.GetString(DicomTags.PhotometricInterpretation), pixels.Description.Photometric);
        var actual = pixels.ToNativeBytes();
        Assert.Equal(expected.Length, actual.Length);
        int first = expected.AsSpan().CommonPrefixLength(actual);
        Assert.True(first == expected.Length, $"first difference at byte {first} of {expected.Length}");
    }
}

/// <summary>The Extended Offset Table (7FE0,0001), 64-bit offsets of each frame's first fragment, decides the frames.</summary>
public sealed class ExtendedOffsetTableTests
{
    [Fact]
    public void Frames_are_found_through_the_extended_offset_table()
    {
        using var dir = new TempDir();
        var source = dir.File("source.dcm");
        Synthetic.Image(8, 8, false, frames: 3, rows: 64, columns: 64).Save(source);
        var encoded = dir.File("jpeg.dcm");
        ExternalTool.Ok("dcmcjpeg", "+eb", "-ot", "+fs", "1", source, encoded); // 1 KB fragments, empty basic offset table
        var decoded = dir.File("decoded.dcm");
        ExternalTool.Ok("dcmdjpeg", encoded, decoded);
        var expected = ExternalTool.RawPixelData(decoded, dir);

        var file = DicomFile.Open(encoded);
        var fragments = Assert.IsType<DicomFragments>(file.Dataset[DicomTags.PixelData]);
        // Offsets of the fragments that start with SOI, counted from the first item tag (8-byte item headers).
        var offsets = new List<ulong>();
        ulong position = 0;
        foreach (var fragment in fragments.Fragments)
        {
            if (fragment.Span[0] == 0xFF && fragment.Span[1] == 0xD8) offsets.Add(position);
            position += 8 + (ulong)fragment.Length;
        }
        Assert.Equal(3, offsets.Count);
        Assert.True(fragments.Fragments.Count > 3);
        file.Dataset.SetBytes(DicomTags.ExtendedOffsetTable, DicomVR.OV, offsets.SelectMany(BitConverter.GetBytes).ToArray());
        var withTable = dir.File("eot.dcm");
        file.Save(withTable);
        Assert.Equal(expected, DicomFile.Open(withTable).GetPixelData().ToNativeBytes());

        // An entry that does not start a fragment is reported, so the table is what decides.
        offsets[1] += 2;
        file.Dataset.SetBytes(DicomTags.ExtendedOffsetTable, DicomVR.OV, offsets.SelectMany(BitConverter.GetBytes).ToArray());
        var e = Assert.Throws<DicomPixelDataException>(() => file.GetPixelData().GetFrame(1));
        Assert.Contains($"Extended Offset Table entry 1 ({offsets[1]}) does not start a fragment", e.Message);
    }
}
