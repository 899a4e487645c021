using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace Pipeline.Testing;

/// <summary>
/// A hostile (or merely huge) MR image in Deflated Explicit VR Little Endian whose Pixel Data is all zeros: a few hundred
/// KB on disk that inflate to as many bytes as its header says. Hand-encoded (no dependency on our writer) and streamed,
/// so a test can make a 256 MiB bomb without holding 256 MiB.
/// </summary>
public static class DeflateBomb
{
    private const string MrImageStorage = "1.2.840.10008.5.1.4.1.1.4";
    private const string DeflatedExplicitLittleEndian = "1.2.840.10008.1.2.1.99";

    /// <summary>Writes the bomb to <paramref name="output"/>: 16-bit pixels, Pixel Data of <paramref name="pixelBytes"/> zeros
    /// (default: exactly what rows x columns x frames need).</summary>
    public static void Write(Stream output, string study, string series, string sop, int rows, int columns, int frames = 1, long? pixelBytes = null)
    {
        ArgumentNullException.ThrowIfNull(output);
        var meta = new MemoryStream();
        meta.Write(Element(0x0002, 0x0001, "OB", [0, 1]));
        meta.Write(Element(0x0002, 0x0002, "UI", Uid(MrImageStorage)));
        meta.Write(Element(0x0002, 0x0003, "UI", Uid(sop)));
        meta.Write(Element(0x0002, 0x0010, "UI", Uid(DeflatedExplicitLittleEndian)));
        output.Write(new byte[128]);
        output.Write("DICM"u8);
        output.Write(Element(0x0002, 0x0000, "UL", BitConverter.GetBytes((uint)meta.Length)));
        meta.WriteTo(output);

        long length = pixelBytes ?? 2L * rows * columns * frames;
        using (var deflate = new DeflateStream(output, CompressionLevel.Fastest, leaveOpen: true))
        {
            deflate.Write(Element(0x0008, 0x0016, "UI", Uid(MrImageStorage)));
            deflate.Write(Element(0x0008, 0x0018, "UI", Uid(sop)));
            deflate.Write(Element(0x0008, 0x0060, "CS", Text("MR")));
            deflate.Write(Element(0x0020, 0x000D, "UI", Uid(study)));
            deflate.Write(Element(0x0020, 0x000E, "UI", Uid(series)));
            deflate.Write(Element(0x0020, 0x0013, "IS", Text("1")));
            deflate.Write(Element(0x0028, 0x0002, "US", Us(1)));
            deflate.Write(Element(0x0028, 0x0004, "CS", Text("MONOCHROME2")));
            if (frames != 1) deflate.Write(Element(0x0028, 0x0008, "IS", Text(frames.ToString(System.Globalization.CultureInfo.InvariantCulture))));
            deflate.Write(Element(0x0028, 0x0010, "US", Us(rows)));
            deflate.Write(Element(0x0028, 0x0011, "US", Us(columns)));
            deflate.Write(Element(0x0028, 0x0100, "US", Us(16)));
            deflate.Write(Element(0x0028, 0x0101, "US", Us(16)));
            deflate.Write(Element(0x0028, 0x0102, "US", Us(15)));
            deflate.Write(Element(0x0028, 0x0103, "US", Us(0)));
            deflate.Write(Header(0x7FE0, 0x0010, "OW", (uint)length));
            var zeros = new byte[1 << 20];
            for (long left = length; left > 0; left -= zeros.Length)
                deflate.Write(zeros, 0, (int)Math.Min(left, zeros.Length));
        }
    }

    /// <summary>Writes the bomb to a file; see <see cref="Write(Stream, string, string, string, int, int, int, long?)"/>.</summary>
    public static void Write(string path, string study, string series, string sop, int rows, int columns, int frames = 1, long? pixelBytes = null)
    {
        using var file = File.Create(path);
        Write(file, study, series, sop, rows, columns, frames, pixelBytes);
    }

    private static byte[] Uid(string uid) => Encoding.ASCII.GetBytes(uid.Length % 2 == 0 ? uid : uid + "\0");

    private static byte[] Text(string text) => Encoding.ASCII.GetBytes(text.Length % 2 == 0 ? text : text + " ");

    private static byte[] Us(int value) => BitConverter.GetBytes((ushort)value);

    private static byte[] Element(ushort group, ushort element, string vr, byte[] value) =>
        [.. Header(group, element, vr, (uint)value.Length), .. value];

    private static byte[] Header(ushort group, ushort element, string vr, uint length)
    {
        bool longForm = vr is "OB" or "OW";
        var header = new byte[longForm ? 12 : 8];
        BinaryPrimitives.WriteUInt16LittleEndian(header, group);
        BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(2), element);
        header[4] = (byte)vr[0];
        header[5] = (byte)vr[1];
        if (longForm) BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(8), length);
        else BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(6), (ushort)length);
        return header;
    }
}
