namespace Pipeline.Dicom;

/// <summary>
/// Safety limits for reading untrusted input (each refusal is a <see cref="DicomLimitExceededException"/> naming the
/// limit), and the optional external transcoder. The defaults accept the largest real clinical objects; see the
/// library README for why each default is what it is and the memory they bound.
/// </summary>
public sealed record DicomReadOptions
{
    public static readonly DicomReadOptions Default = new();

    /// <summary>
    /// Largest object accepted as stored, in bytes. Default: the largest one array can hold (2 GiB - 57 bytes; the
    /// reader keeps an object in one array). Breast tomosynthesis objects reach 1-2 GB.
    /// </summary>
    public long MaxObjectBytes { get; init; } = Array.MaxLength;

    /// <summary>
    /// Largest decoded size, in bytes: a Deflated dataset once inflated (inflating stops here), and the pixel data of
    /// all frames once decoded (Rows x Columns x Samples x Bits Allocated x Frames, checked from the header before any
    /// pixel is read). Default 4 GiB: a tomosynthesis volume of ~100 frames of 3328x4096 at 16 bits decodes to 2.7 GB.
    /// </summary>
    public long MaxDecompressedBytes { get; init; } = 4L << 30;

    /// <summary>
    /// Most pixels in one frame (Rows x Columns). Default 8192 x 8192 (64 Mi): the largest real frames are
    /// mammograms at 50 µm (4728 x 5928) and stitched long-length radiographs (~3000 x 9000); a DX detector is 4096 x 4096.
    /// </summary>
    public long MaxPixelsPerFrame { get; init; } = 8192L * 8192;

    /// <summary>
    /// Most frames in one object (Number of Frames). Default 100,000: an fMRI run stored as one Enhanced MR object holds
    /// ~20,000 frames, a 4D CT ~10,000, ultrasound and angiography cines a few thousand.
    /// </summary>
    public int MaxFrames { get; init; } = 100_000;

    /// <summary>Deepest sequence nesting accepted. Default 64: real data rarely exceeds 5 (SR content trees ~10).</summary>
    public int MaxDepth { get; init; } = 64;

    /// <summary>
    /// Path of GDCM's <c>gdcmconv</c>, run as <c>gdcmconv --raw</c> to decode pixel data in syntaxes we have
    /// no codec for (JPEG-LS, JPEG 2000). Null (the default): such files fail with "unsupported transfer syntax".
    /// </summary>
    public string? ExternalTranscoderPath { get; init; }

    /// <summary>How long one external transcoder run may take before it is killed and the file fails.</summary>
    public TimeSpan ExternalTranscoderTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Refuses an object of <paramref name="bytes"/> bytes as stored, before it is read (or downloaded).</summary>
    /// <exception cref="DicomLimitExceededException">The object is larger than <see cref="MaxObjectBytes"/>.</exception>
    public void CheckObjectSize(long bytes)
    {
        if (bytes > MaxObjectBytes)
            throw Exceeded(nameof(MaxObjectBytes), $"object of {bytes} bytes exceeds the object-size limit of {MaxObjectBytes} bytes", 0);
    }

    /// <summary>The refusal of an object found larger than <see cref="MaxObjectBytes"/> while it was read (its size unknown).</summary>
    public DicomLimitExceededException ObjectLargerThanLimit() =>
        Exceeded(nameof(MaxObjectBytes), $"the object is larger than the object-size limit of {MaxObjectBytes} bytes", 0);

    /// <summary>
    /// Refuses an image whose header (read so far: <paramref name="header"/>) promises more pixels, frames or decoded
    /// bytes than the limits allow; called when the parser reaches Pixel Data, before its value is read or inflated.
    /// Attributes that are absent or not numbers are left to <see cref="PixelDescription.Validate"/>.
    /// </summary>
    /// <returns>The bytes a native Pixel Data value of this image holds (before padding), or null without Rows and Columns.</returns>
    internal long? CheckImage(Dataset header, long offset)
    {
        if (!header.TryGetInt(DicomTags.Rows, out var rows) || !header.TryGetInt(DicomTags.Columns, out var columns)) return null;
        long pixels = (long)Math.Max(rows, 0) * Math.Max(columns, 0);
        if (pixels > MaxPixelsPerFrame)
            throw Exceeded(nameof(MaxPixelsPerFrame), $"{rows}x{columns} = {pixels} pixels per frame exceed the limit of {MaxPixelsPerFrame}", offset);
        long frames = header.GetInt(DicomTags.NumberOfFrames, 1);
        if (frames > MaxFrames)
            throw Exceeded(nameof(MaxFrames), $"{frames} frames exceed the limit of {MaxFrames} frames per object", offset);
        long bits = (long)Math.Max(header.GetInt(DicomTags.SamplesPerPixel, 1), 1) * Math.Max(header.GetInt(DicomTags.BitsAllocated, 8), 1);
        long decoded = (long)Math.Min(Math.Ceiling(pixels * (double)bits / 8 * Math.Max(frames, 1)), long.MaxValue);
        CheckDecompressed(decoded, "pixel data", offset);
        return decoded;
    }

    /// <summary>Refuses <paramref name="what"/> of <paramref name="bytes"/> bytes once decoded or inflated.</summary>
    internal void CheckDecompressed(long bytes, string what, long offset)
    {
        if (bytes > MaxDecompressedBytes)
            throw Exceeded(nameof(MaxDecompressedBytes), $"{what} of {bytes} bytes decoded exceeds the decompressed-size limit of {MaxDecompressedBytes} bytes", offset);
    }

    internal static DicomLimitExceededException Exceeded(string limit, string message, long offset, DicomTag? tag = null) =>
        new(limit, $"{message} ({limit})", offset, tag);
}
