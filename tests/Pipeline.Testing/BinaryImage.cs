using System.Globalization;
using System.Text;

namespace Pipeline.Testing;

/// <summary>
/// A 1-bit image (Bits Allocated 1, as segmentations carry), 3 frames of 5x7, written by dcmtk's `dump2dcm` from a text
/// dump: an encoder independent of ours. Pixels are packed as PS3.5 8.1.1 says: eight to a byte, the first in the least
/// significant bit, each frame right after the previous one; 35 pixels a frame, so frames 2 and 3 start mid-byte.
/// </summary>
public static class BinaryImage
{
    public const int Rows = 5, Columns = 7, Frames = 3;

    /// <summary>Stored values (0 or 1), frame after frame, row by row: a fixed pseudo-random pattern.</summary>
    public static IReadOnlyList<int> Pixels { get; } = [.. Enumerable.Range(0, Rows * Columns * Frames).Select(i => (i * 7919 + i / 5) % 3 == 0 ? 1 : 0)];

    /// <summary>Writes the image in Explicit VR Little Endian to <paramref name="path"/>, in a series of its own.</summary>
    public static string Write(string path, TempDir dir)
    {
        var packed = new byte[(Pixels.Count + 7) / 8];
        for (var i = 0; i < Pixels.Count; i++) packed[i / 8] |= (byte)(Pixels[i] << (i % 8));
        var dump = new StringBuilder()
            .AppendLine("(0002,0010) UI =LittleEndianExplicit")
            .AppendLine("(0008,0016) UI =SecondaryCaptureImageStorage")
            .AppendLine("(0008,0018) UI [1.2.826.0.1.3680043.2.1143.1.3]")
            .AppendLine("(0008,0060) CS [OT]")
            .AppendLine("(0020,000d) UI [1.2.826.0.1.3680043.2.1143.1.1]")
            .AppendLine("(0020,000e) UI [1.2.826.0.1.3680043.2.1143.1.2]")
            .AppendLine("(0028,0002) US 1")
            .AppendLine("(0028,0004) CS [MONOCHROME2]")
            .AppendLine(CultureInfo.InvariantCulture, $"(0028,0008) IS [{Frames}]")
            .AppendLine(CultureInfo.InvariantCulture, $"(0028,0010) US {Rows}")
            .AppendLine(CultureInfo.InvariantCulture, $"(0028,0011) US {Columns}")
            .AppendLine("(0028,0100) US 1")
            .AppendLine("(0028,0101) US 1")
            .AppendLine("(0028,0102) US 0")
            .AppendLine("(0028,0103) US 0")
            .AppendLine("(7fe0,0010) OB " + string.Join('\\', packed.Select(b => b.ToString("x2", CultureInfo.InvariantCulture))));
        var text = dir.File("binary.txt");
        File.WriteAllText(text, dump.ToString());
        ExternalTool.Ok("dump2dcm", text, path);
        return path;
    }
}
