namespace Pipeline.Dicom.Codecs;

/// <summary>JPEG codestreams (lossless process 14 and baseline/extended DCT).</summary>
internal sealed class JpegDecoder : IFrameDecoder
{
    public static readonly JpegDecoder Instance = new();

    public void Decode(ReadOnlySpan<byte> codestream, PixelDescription description, Span<byte> destination) =>
        throw new DicomPixelDataException("JPEG decoding is not implemented yet");
}
