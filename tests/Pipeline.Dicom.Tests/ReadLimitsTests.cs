namespace Pipeline.Dicom.Tests;

/// <summary>
/// The per-object limits of <see cref="DicomReadOptions"/>: each refusal names its limit and costs bounded memory (the
/// image limits are applied to the header, before Pixel Data is read or inflated); the defaults accept real objects.
/// </summary>
public sealed class ReadLimitsTests
{
    private static byte[] Bomb(int rows, int columns, int frames = 1, long? pixelBytes = null)
    {
        var ms = new MemoryStream();
        DeflateBomb.Write(ms, "1.2.3", "1.2.3.4", "1.2.3.4.5", rows, columns, frames, pixelBytes);
        return ms.ToArray();
    }

    /// <summary>Runs <paramref name="read"/>, which must refuse with <paramref name="limit"/>, and returns the bytes it allocated.</summary>
    private static long Refused(string limit, Action read)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<DicomLimitExceededException>(read);
        Assert.Equal(limit, e.Limit);
        Assert.Contains($"({limit})", e.Message, StringComparison.Ordinal);
        return GC.GetAllocatedBytesForCurrentThread() - before;
    }

    [Fact]
    public void Inflating_stops_at_the_decompressed_size_limit()
    {
        // A 64x64 image whose Pixel Data holds 256 MiB of zeros (~250 KB deflated): the value is over-long, so only the
        // inflation limit can stop it, and it must stop there rather than inflate everything.
        var bomb = Bomb(64, 64, pixelBytes: 256L << 20);
        var limits = new DicomReadOptions { MaxDecompressedBytes = 16L << 20 };

        var allocated = Refused("MaxDecompressedBytes", () => DicomFile.Open(bomb, limits));

        Assert.True(allocated < 48L << 20, $"allocated {allocated >> 20} MiB to refuse a bomb past a 16 MiB limit");
    }

    [Fact]
    public void An_over_long_pixel_data_value_is_inflated_past_without_being_kept()
    {
        // Requirement: within the limits, a 64x64 image whose Pixel Data value is 256 MiB of zeros reads as that image
        // in bounded memory: the bytes past what Rows x Columns x Bits need are read and dropped.
        var bomb = Bomb(64, 64, pixelBytes: 256L << 20);
        long before = GC.GetAllocatedBytesForCurrentThread();

        var pixels = DicomFile.Open(bomb).GetPixelData();

        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 16L << 20, "kept the over-long value");
        Assert.Equal((64, 64), (pixels.Description.Rows, pixels.Description.Columns));
        Assert.All(pixels.GetFrame(0), v => Assert.Equal(0f, v));
    }

    [Fact]
    public void An_image_past_the_pixel_limits_is_refused_from_its_header_before_its_pixels_are_inflated()
    {
        // 16384 x 8192 at 16 bits: 256 MiB of zeros behind a header that already says too many pixels per frame.
        var bomb = Bomb(16384, 8192);

        Assert.True(Refused("MaxPixelsPerFrame", () => DicomFile.Open(bomb)) < 16L << 20);
        Assert.True(Refused("MaxPixelsPerFrame", () => DicomFile.ReadHeader(new MemoryStream(bomb))) < 16L << 20);
        Assert.True(Refused("MaxDecompressedBytes", () => DicomFile.Open(bomb, new DicomReadOptions { MaxPixelsPerFrame = 1L << 30, MaxDecompressedBytes = 1L << 20 })) < 16L << 20);
        Refused("MaxFrames", () => DicomFile.Open(Bomb(64, 64, frames: 100_001, pixelBytes: 2)));
    }

    [Fact]
    public void An_object_past_the_object_size_limit_is_refused_before_it_is_parsed()
    {
        var bytes = Bomb(64, 64);
        var limits = new DicomReadOptions { MaxObjectBytes = bytes.Length - 1 };

        Refused("MaxObjectBytes", () => DicomFile.Open(bytes, limits));
        Refused("MaxObjectBytes", () => DicomFile.Open(new MemoryStream(bytes), limits));
        Refused("MaxObjectBytes", () => DicomFile.ReadHeader(new MemoryStream(bytes), limits));
        Assert.Equal(64, DicomFile.Open(bytes, limits with { MaxObjectBytes = bytes.Length }).GetPixelData().Description.Rows);
    }

    [Theory]
    [InlineData(4096, 4096, 1)]       // DX detector
    [InlineData(5928, 4728, 1)]       // mammogram at 50 µm
    [InlineData(9000, 3000, 1)]       // stitched long-length radiograph
    [InlineData(4096, 3328, 100)]     // breast tomosynthesis volume, 2.7 GB decoded
    [InlineData(64, 64, 20_000)]      // fMRI run as one Enhanced MR object
    public void The_defaults_accept_the_largest_real_clinical_images(int rows, int columns, int frames)
    {
        // Header-only: the limits are checked on the header, whatever the (here absent) pixel value holds.
        var header = DicomFile.ReadHeader(new MemoryStream(Bomb(rows, columns, frames, pixelBytes: 2)));

        Assert.Equal(rows, header.Dataset.GetInt(DicomTags.Rows));
    }
}
