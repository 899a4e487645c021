using System.Buffers.Binary;

namespace Pipeline.Dicom.Codecs;

/// <summary>Decodes one compressed frame into native little-endian bytes laid out per the description.</summary>
internal interface IFrameDecoder
{
    void Decode(ReadOnlySpan<byte> codestream, PixelDescription description, Span<byte> destination);
}

internal static class FrameDecoders
{
    public static IFrameDecoder For(TransferSyntax ts) => ts.Pixels switch
    {
        PixelEncoding.Rle => RleCodec.Instance,
        PixelEncoding.JpegLossless => JpegDecoder.Instance,
        PixelEncoding.JpegBaseline => JpegDecoder.Instance,
        _ => throw new DicomUnsupportedTransferSyntaxException(ts.Uid, ts.Name),
    };
}

/// <summary>Which fragments make up each frame (PS3.5 A.4: offset table, one fragment per frame, or JPEG markers).</summary>
internal static class FragmentMap
{
    public static int[][] Build(DicomFragments f, int frames, TransferSyntax ts)
    {
        var fragments = f.Fragments;
        if (fragments.Count == 0) throw new DicomPixelDataException("encapsulated Pixel Data has no fragments");
        if (frames == 1) return [Enumerable.Range(0, fragments.Count).ToArray()];
        var table = f.OffsetTable.Span;
        if (table.Length == 4 * frames)
        {
            // Offsets count from the first byte of the first fragment's item tag; each item has an 8-byte header.
            var starts = new long[fragments.Count];
            long pos = 0;
            for (int i = 0; i < fragments.Count; i++)
            {
                starts[i] = pos;
                pos += 8 + fragments[i].Length;
            }
            var firstFragment = new int[frames + 1];
            for (int k = 0; k < frames; k++)
            {
                uint offset = BinaryPrimitives.ReadUInt32LittleEndian(table[(4 * k)..]);
                int index = Array.BinarySearch(starts, offset);
                if (index < 0 || (k > 0 && index <= firstFragment[k - 1]))
                    throw new DicomPixelDataException($"basic offset table entry {k} ({offset}) does not start a fragment in order");
                firstFragment[k] = index;
            }
            firstFragment[frames] = fragments.Count;
            return Enumerable.Range(0, frames)
                .Select(k => Enumerable.Range(firstFragment[k], firstFragment[k + 1] - firstFragment[k]).ToArray()).ToArray();
        }
        if (fragments.Count == frames) return Enumerable.Range(0, frames).Select(i => new[] { i }).ToArray();
        if (ts.Pixels is PixelEncoding.JpegBaseline or PixelEncoding.JpegLossless)
        {
            // No offset table and several fragments per frame: each frame's codestream starts with SOI (FFD8).
            var groups = new List<List<int>>();
            for (int i = 0; i < fragments.Count; i++)
            {
                var s = fragments[i].Span;
                if (groups.Count == 0 || (s.Length >= 2 && s[0] == 0xFF && s[1] == 0xD8)) groups.Add([]);
                groups[^1].Add(i);
            }
            if (groups.Count == frames) return groups.Select(g => g.ToArray()).ToArray();
        }
        throw new DicomPixelDataException($"cannot tell which of {fragments.Count} fragments belong to which of {frames} frames");
    }
}
