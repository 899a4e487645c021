namespace Pipeline.Dicom.Codecs;

/// <summary>Baseline and extended (8/12-bit) DCT JPEG.</summary>
internal static class JpegDctDecoder
{
    public static void Decode(JpegStream s, ReadOnlySpan<byte> data, PixelDescription d, Span<byte> destination) =>
        throw new DicomPixelDataException("JPEG DCT decoding is not implemented yet");
}
