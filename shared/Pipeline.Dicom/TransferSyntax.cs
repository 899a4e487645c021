namespace Pipeline.Dicom;

/// <summary>How a transfer syntax's pixel data is compressed, i.e. which decoder it needs.</summary>
public enum PixelEncoding { Native, Rle, JpegLossless, JpegBaseline, Unsupported }

/// <summary>A transfer syntax (PS3.5 section 10): byte order, VR encoding, deflate, pixel compression.</summary>
public sealed record TransferSyntax(string Uid, string Name, bool ExplicitVR, bool LittleEndian, bool Deflated, bool Encapsulated, PixelEncoding Pixels)
{
    public static readonly TransferSyntax ImplicitVRLittleEndian = new("1.2.840.10008.1.2", "Implicit VR Little Endian", false, true, false, false, PixelEncoding.Native);
    public static readonly TransferSyntax ExplicitVRLittleEndian = new("1.2.840.10008.1.2.1", "Explicit VR Little Endian", true, true, false, false, PixelEncoding.Native);
    public static readonly TransferSyntax DeflatedExplicitVRLittleEndian = new("1.2.840.10008.1.2.1.99", "Deflated Explicit VR Little Endian", true, true, true, false, PixelEncoding.Native);
    public static readonly TransferSyntax ExplicitVRBigEndian = new("1.2.840.10008.1.2.2", "Explicit VR Big Endian", true, false, false, false, PixelEncoding.Native);
    public static readonly TransferSyntax RleLossless = new("1.2.840.10008.1.2.5", "RLE Lossless", true, true, false, true, PixelEncoding.Rle);
    public static readonly TransferSyntax JpegBaseline = new("1.2.840.10008.1.2.4.50", "JPEG Baseline (Process 1)", true, true, false, true, PixelEncoding.JpegBaseline);
    public static readonly TransferSyntax JpegExtended = new("1.2.840.10008.1.2.4.51", "JPEG Extended (Process 2 & 4)", true, true, false, true, PixelEncoding.JpegBaseline);
    public static readonly TransferSyntax JpegLossless = new("1.2.840.10008.1.2.4.57", "JPEG Lossless, Non-Hierarchical (Process 14)", true, true, false, true, PixelEncoding.JpegLossless);
    public static readonly TransferSyntax JpegLosslessSV1 = new("1.2.840.10008.1.2.4.70", "JPEG Lossless, Non-Hierarchical, First-Order Prediction (Process 14 [Selection Value 1])", true, true, false, true, PixelEncoding.JpegLossless);

    private static readonly TransferSyntax[] Known =
    [
        ImplicitVRLittleEndian, ExplicitVRLittleEndian, DeflatedExplicitVRLittleEndian, ExplicitVRBigEndian,
        RleLossless, JpegBaseline, JpegExtended, JpegLossless, JpegLosslessSV1,
        Other("1.2.840.10008.1.2.4.80", "JPEG-LS Lossless Image Compression"),
        Other("1.2.840.10008.1.2.4.81", "JPEG-LS Lossy (Near-Lossless) Image Compression"),
        Other("1.2.840.10008.1.2.4.90", "JPEG 2000 Image Compression (Lossless Only)"),
        Other("1.2.840.10008.1.2.4.91", "JPEG 2000 Image Compression"),
        Other("1.2.840.10008.1.2.4.92", "JPEG 2000 Part 2 Multi-component Image Compression (Lossless Only)"),
        Other("1.2.840.10008.1.2.4.93", "JPEG 2000 Part 2 Multi-component Image Compression"),
        Other("1.2.840.10008.1.2.4.100", "MPEG2 Main Profile / Main Level"),
        Other("1.2.840.10008.1.2.4.101", "MPEG2 Main Profile / High Level"),
        Other("1.2.840.10008.1.2.4.102", "MPEG-4 AVC/H.264 High Profile / Level 4.1"),
        Other("1.2.840.10008.1.2.4.103", "MPEG-4 AVC/H.264 BD-compatible High Profile / Level 4.1"),
        Other("1.2.840.10008.1.2.4.107", "HEVC/H.265 Main Profile / Level 5.1"),
        Other("1.2.840.10008.1.2.4.201", "High-Throughput JPEG 2000 Image Compression (Lossless Only)"),
        Other("1.2.840.10008.1.2.4.202", "High-Throughput JPEG 2000 with RPCL Options Image Compression (Lossless Only)"),
        Other("1.2.840.10008.1.2.4.203", "High-Throughput JPEG 2000 Image Compression"),
        Other("1.2.840.10008.1.2.4.52", "JPEG Extended (Process 3 & 5) (Retired)"),
        Other("1.2.840.10008.1.2.4.53", "JPEG Spectral Selection, Non-Hierarchical (Process 6 & 8) (Retired)"),
        Other("1.2.840.10008.1.2.4.55", "JPEG Full Progression, Non-Hierarchical (Process 10 & 12) (Retired)"),
        Other("1.2.840.10008.1.2.4.58", "JPEG Lossless, Non-Hierarchical (Process 15) (Retired)"),
    ];

    private static TransferSyntax Other(string uid, string name) => new(uid, name, true, true, false, true, PixelEncoding.Unsupported);

    /// <summary>The syntax for a UID; unknown UIDs are assumed explicit LE encapsulated with unsupported pixels.</summary>
    public static TransferSyntax FromUid(string uid)
    {
        uid = uid.Trim(' ', '\0');
        foreach (var ts in Known)
            if (ts.Uid == uid) return ts;
        return new TransferSyntax(uid, "unknown transfer syntax", true, true, false, true, PixelEncoding.Unsupported);
    }

    public bool IsSupported => Pixels != PixelEncoding.Unsupported;

    public override string ToString() => $"{Uid} ({Name})";
}
