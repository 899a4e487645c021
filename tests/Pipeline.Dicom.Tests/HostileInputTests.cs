using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using CsCheck;

namespace Pipeline.Dicom.Tests;

/// <summary>Untrusted input: every failure is a specific DicomException, in bounded time and memory.</summary>
public sealed class HostileInputTests
{
    /// <summary>Hand-encoded Explicit VR Little Endian elements.</summary>
    private static byte[] Element(ushort group, ushort element, string vr, byte[] value, uint? length = null)
    {
        bool longForm = vr is "OB" or "OW" or "SQ" or "UN" or "UT" or "OF";
        var header = new byte[longForm ? 12 : 8];
        BinaryPrimitives.WriteUInt16LittleEndian(header, group);
        BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(2), element);
        header[4] = (byte)vr[0];
        header[5] = (byte)vr[1];
        if (longForm) BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(8), length ?? (uint)value.Length);
        else BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(6), (ushort)(length ?? (uint)value.Length));
        return [.. header, .. value];
    }

    private static byte[] TagLength(ushort group, ushort element, uint length)
    {
        var b = new byte[8];
        BinaryPrimitives.WriteUInt16LittleEndian(b, group);
        BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(2), element);
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(4), length);
        return b;
    }

    private static byte[] Us(ushort v) => BitConverter.GetBytes(v);

    private static byte[] Bytes(DicomFile file, TransferSyntax? ts = null)
    {
        var ms = new MemoryStream();
        file.Save(ms, ts);
        return ms.ToArray();
    }

    /// <summary>Reads everything, decodes every frame; returns the exception (null on success).</summary>
    private static Exception? ReadAll(byte[] bytes)
    {
        try
        {
            var file = DicomFile.Open(bytes);
            _ = DicomDump.ToText(file.Dataset);
            if (file.Dataset.Contains(DicomTags.PixelData))
            {
                var px = file.GetPixelData();
                for (int i = 0; i < px.FrameCount; i++) px.GetFrame(i);
            }
            return null;
        }
        catch (Exception e)
        {
            return e;
        }
    }

    [Fact]
    public void Every_truncation_gives_success_or_a_dicom_exception()
    {
        var bytes = Bytes(Synthetic.Mr(8, 8));
        for (int length = 0; length < bytes.Length; length++)
        {
            var e = ReadAll(bytes[..length]);
            Assert.True(e is null or DicomException, $"length {length}: {e}");
        }
        // Cut inside the pixel value: the error names the tag and the shortfall.
        var cut = Assert.IsType<DicomFormatException>(ReadAll(bytes[..^10]));
        Assert.Equal(DicomTags.PixelData, cut.Tag);
        Assert.Contains("past the end of data", cut.Message);
    }

    [Fact]
    public void A_rescale_taking_modality_values_past_the_bound_is_refused_by_name_and_one_within_it_decodes_finite()
    {
        // Signed 16-bit: stored values -32768..32767; the bound is 1.7014e38, so a slope of 5.19e33 is the last that fits.
        var file = Synthetic.Image(16, 16, signed: true);
        file.Dataset.SetString(DicomTags.RescaleSlope, "5.19e33").SetString(DicomTags.RescaleIntercept, "-1e34");
        Assert.True(32768 * 5.19e33 + 1e34 <= PixelDescription.MaxModalityMagnitude);
        Assert.All(file.GetPixelData().GetFrame(0), v => Assert.True(float.IsFinite(v)));

        foreach (var (slope, intercept) in new[] { ("5.2e33", "0"), ("1e308", "0"), ("1", "1e300"), ("-1e35", "0") })
        {
            var bad = Synthetic.Image(16, 16, signed: true);
            bad.Dataset.SetString(DicomTags.RescaleSlope, slope).SetString(DicomTags.RescaleIntercept, intercept);
            var e = Assert.Throws<DicomPixelDataException>(() => bad.GetPixelData());
            Assert.StartsWith($"Rescale Slope {double.Parse(slope, CultureInfo.InvariantCulture):R} / Intercept {double.Parse(intercept, CultureInfo.InvariantCulture):R} "
                + "make the modality values of stored values -32768..32767 reach beyond ±1.7E+38", e.Message);
        }
    }

    [Fact]
    public void Length_past_end_of_file_names_tag_and_offset()
    {
        var data = Element(0x0010, 0x0010, "PN", "Doe^J"u8.ToArray(), length: 0x7000);
        var e = Assert.Throws<DicomFormatException>(() => DicomFile.Open(data));
        Assert.Equal(new DicomTag(0x0010, 0x0010), e.Tag);
        Assert.Equal(0, e.Offset);
        Assert.Contains("(0010,0010)", e.Message);
    }

    [Fact]
    public void Huge_claimed_length_on_a_stream_is_never_allocated()
    {
        var data = Element(0x7FE0, 0x0010, "OW", new byte[16], length: 0xFFFFFFF0);
        long before = GC.GetAllocatedBytesForCurrentThread();
        Assert.Throws<DicomFormatException>(() => DicomFile.Open(new MemoryStream(data)));
        Assert.Throws<DicomFormatException>(() => DicomFile.ReadHeader(new MemoryStream([.. Element(0x0010, 0x0020, "LO", new byte[4]), .. Element(0x0011, 0x1010, "UN", [1, 2], length: 0xFFFFFFF0)])));
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 16 << 20, "allocated more than 16 MB");
    }

    [Fact]
    public void Sequences_nested_thousands_deep_hit_the_depth_limit_without_stack_overflow()
    {
        const int depth = 5000;
        var ms = new MemoryStream();
        for (int i = 0; i < depth; i++)
        {
            ms.Write(Element(0x0008, 0x1140, "SQ", [], length: 0xFFFFFFFF));
            ms.Write(TagLength(0xFFFE, 0xE000, 0xFFFFFFFF));
        }
        var e = Assert.Throws<DicomLimitExceededException>(() => DicomFile.Open(ms.ToArray()));
        Assert.Contains("nesting deeper than 64", e.Message);
    }

    [Fact]
    public void Nesting_within_the_limit_reads_back()
    {
        var ms = new MemoryStream();
        for (int i = 0; i < 10; i++)
        {
            ms.Write(Element(0x0008, 0x1140, "SQ", [], length: 0xFFFFFFFF));
            ms.Write(TagLength(0xFFFE, 0xE000, 0xFFFFFFFF));
        }
        ms.Write(Element(0x0008, 0x1155, "UI", "1.2.3\0"u8.ToArray()));
        for (int i = 0; i < 10; i++)
        {
            ms.Write(TagLength(0xFFFE, 0xE00D, 0));
            ms.Write(TagLength(0xFFFE, 0xE0DD, 0));
        }
        var ds = DicomFile.Open(ms.ToArray()).Dataset;
        for (int i = 0; i < 10; i++) ds = ds.GetSequence(DicomTags.ReferencedImageSequence)[0];
        Assert.Equal("1.2.3", ds.GetString(DicomTags.ReferencedSOPInstanceUID));
    }

    [Fact]
    public void Pixel_data_shorter_than_claimed_is_a_pixel_data_error()
    {
        var data = Element(0x0028, 0x0002, "US", Us(1))
            .Concat(Element(0x0028, 0x0010, "US", Us(512))).Concat(Element(0x0028, 0x0011, "US", Us(512)))
            .Concat(Element(0x0028, 0x0100, "US", Us(16))).Concat(Element(0x7FE0, 0x0010, "OW", new byte[1000])).ToArray();
        var e = Assert.Throws<DicomPixelDataException>(() => DicomFile.Open(data).GetPixelData());
        Assert.Contains("holds 1000 bytes", e.Message);
    }

    [Fact]
    public void Float_pixel_data_and_bit_packed_pixels_in_a_codec_are_reported_precisely()
    {
        var image = Synthetic.Image(16, 16, false);
        var pixels = ((DicomValueElement)image.Dataset[DicomTags.PixelData]!).Value;
        image.Dataset.Remove(DicomTags.PixelData);
        image.Dataset.SetNumber(DicomTags.BitsAllocated, 32).SetBytes(DicomTags.FloatPixelData, DicomVR.OF, pixels);
        var floats = Assert.Throws<DicomPixelDataException>(() => DicomFile.Open(Bytes(image)).GetPixelData());
        Assert.Equal("Float Pixel Data (7FE0,0008) / Double Float Pixel Data (7FE0,0009) is not supported", floats.Message);

        // 1-bit pixels are read natively (PixelBitsTests), but our codecs take whole bytes per sample.
        static DicomFile OneBit(DicomFile file)
        {
            file.Dataset.SetNumber(DicomTags.BitsAllocated, 1).SetNumber(DicomTags.BitsStored, 1).SetNumber(DicomTags.HighBit, 0);
            return file;
        }
        var decoding = Assert.Throws<DicomPixelDataException>(() => OneBit(DicomFile.Open(Bytes(Synthetic.Image(8, 8, false), TransferSyntax.RleLossless))).GetPixelData());
        var encoding = Assert.Throws<DicomPixelDataException>(() => Bytes(OneBit(Synthetic.Image(8, 8, false)), TransferSyntax.RleLossless));
        Assert.All(new[] { decoding, encoding }, e => Assert.Equal("1-bit pixel data in RLE Lossless is not supported (only in a native encoding)", e.Message));

        var twelve = Synthetic.Image(16, 12, false);
        twelve.Dataset.SetNumber(DicomTags.BitsAllocated, 12);
        Assert.Equal("Bits Allocated 12 is not supported (1, 8, 16 or 32)", Assert.Throws<DicomPixelDataException>(() => twelve.GetPixelData()).Message);
    }

    [Fact]
    public void Huge_image_claimed_by_a_tiny_compressed_file_is_refused_before_allocation()
    {
        var file = Synthetic.Image(16, 16, false, frames: 1);
        var rle = DicomFile.Open(Bytes(file, TransferSyntax.RleLossless));
        rle.Dataset.SetNumber(DicomTags.Rows, 65535).SetNumber(DicomTags.Columns, 65535);
        long before = GC.GetAllocatedBytesForCurrentThread();
        Assert.Throws<DicomPixelDataException>(() => rle.GetPixelData());
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 16 << 20);
    }

    [Fact]
    public void Undefined_length_UN_private_sequence_and_odd_lengths_are_read()
    {
        // UN with undefined length holds an Implicit VR LE sequence (PS3.5 6.2.2); odd-length values are kept.
        var inner = TagLength(0x0009, 0x0010, 4).Concat("ACME"u8.ToArray()).ToArray();
        var data = Element(0x0009, 0x0010, "LO", "ACME"u8.ToArray())
            .Concat(Element(0x0009, 0x1001, "UN", [], length: 0xFFFFFFFF))
            .Concat(TagLength(0xFFFE, 0xE000, 0xFFFFFFFF)).Concat(inner).Concat(TagLength(0xFFFE, 0xE00D, 0))
            .Concat(TagLength(0xFFFE, 0xE0DD, 0))
            .Concat(Element(0x0010, 0x0010, "PN", "Odd"u8.ToArray())).ToArray();
        var ds = DicomFile.Open(data).Dataset;
        Assert.Equal("ACME", ds.GetSequence(new DicomTag(0x0009, 0x1001))[0].GetString(new DicomTag(0x0009, 0x0010)));
        Assert.Equal("Odd", ds.GetString(DicomTags.PatientName));
    }

    [Fact]
    public void Unsupported_syntax_names_uid_and_name()
    {
        using var dir = new TempDir();
        var source = dir.File("s.dcm");
        Synthetic.Image(16, 12, false).Save(source);
        var jls = dir.File("jls.dcm");
        ExternalTool.Ok("dcmcjpls", source, jls);
        var e = Assert.Throws<DicomUnsupportedTransferSyntaxException>(() => DicomFile.Open(jls).GetPixelData());
        Assert.Equal("unsupported transfer syntax 1.2.840.10008.1.2.4.80 (JPEG-LS Lossless Image Compression)", e.Message);
    }

    [Theory]
    [InlineData("+eb")]
    [InlineData("+ee")]
    public void Truncated_dct_jpeg_is_a_pixel_data_error_naming_where_it_ends(string options)
    {
        using var dir = new TempDir();
        var jpeg = dir.File("j.dcm");
        ExternalTool.Ok("dcmcjpeg", options, JpegDctConformanceTests.SampleSlice(), jpeg);
        var file = DicomFile.Open(jpeg);
        var fragments = Assert.IsType<DicomFragments>(file.Dataset[DicomTags.PixelData]);
        var stream = fragments.Fragments[0];
        foreach (int keep in new[] { 2, 40, stream.Length / 3, stream.Length - 200 })
        {
            file.Dataset.Add(new DicomFragments(DicomTags.PixelData, DicomVR.OB, Array.Empty<byte>(), [stream[..keep]]));
            var e = Assert.Throws<DicomPixelDataException>(() => file.GetPixelData().GetFrame(0));
            Assert.Matches("JPEG (codestream does not start with SOI|codestream has no frame or no scan|data ends at MCU row|segment FF..)", e.Message);
        }
    }

    public static TheoryData<string> MutationSyntaxes => new()
    {
        TransferSyntax.ExplicitVRLittleEndian.Uid, TransferSyntax.ImplicitVRLittleEndian.Uid,
        TransferSyntax.ExplicitVRBigEndian.Uid, TransferSyntax.DeflatedExplicitVRLittleEndian.Uid,
        TransferSyntax.RleLossless.Uid, "+el +sv 6", "+eb", "+ee", "rgb +eb", "rgb +eb +n1",
    };

    /// <summary>Random byte mutations of valid files: success or a DicomException, each in bounded time.</summary>
    [Theory]
    [MemberData(nameof(MutationSyntaxes))]
    public void Random_mutations_yield_success_or_a_specific_error(string syntax)
    {
        // "rgb ...": an 8-bit RGB image (YCbCr JPEG with 4:2:2 or 4:2:0 chroma: upsampling and colour conversion).
        bool rgb = syntax.StartsWith("rgb ", StringComparison.Ordinal);
        if (rgb) syntax = syntax[4..];
        var image = rgb ? Synthetic.Image(8, 8, false, 3, frames: 2, rows: 24, columns: 24) : Synthetic.Image(16, 12, false, frames: 2, rows: 16, columns: 16);
        byte[] valid;
        if (syntax.StartsWith('+'))
        {
            // dcmcjpeg options: JPEG lossless, baseline, extended 12-bit.
            using var dir = new TempDir();
            var source = dir.File("s.dcm");
            image.Save(source);
            var jpeg = dir.File("j.dcm");
            ExternalTool.Ok("dcmcjpeg", [.. syntax.Split(' '), source, jpeg]);
            valid = File.ReadAllBytes(jpeg);
        }
        else
        {
            valid = Bytes(image, TransferSyntax.FromUid(syntax));
        }
        Assert.Null(ReadAll(valid));
        var mutation = Gen.Select(Gen.Int[0, valid.Length - 1], Gen.Byte, Gen.Int[0, 3]).Array[1, 6];
        mutation.Sample(changes =>
        {
            var bytes = (byte[])valid.Clone();
            foreach (var (position, value, kind) in changes)
            {
                // Overwrite a byte, or smash a likely length field with an extreme value.
                if (kind == 0 && position + 4 <= bytes.Length) BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(position), 0xFFFFFFF0u + (uint)(value % 16));
                else bytes[position] = value;
            }
            var watch = Stopwatch.StartNew();
            var e = ReadAll(bytes);
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(2), $"took {watch.Elapsed}");
            Assert.True(e is null or DicomException, e?.ToString());
        }, iter: 1500, threads: 1);
    }
}
