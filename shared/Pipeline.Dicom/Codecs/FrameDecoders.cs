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

/// <summary>
/// Which fragments make up each frame (PS3.5 A.4): the Extended Offset Table (7FE0,0001) when present,
/// else the basic offset table, else one fragment per frame, else (JPEG) the SOI marker starting each frame.
/// </summary>
internal static class FragmentMap
{
    public static int[][] Build(DicomFragments f, int frames, TransferSyntax ts, ReadOnlySpan<byte> extendedOffsetTable)
    {
        var fragments = f.Fragments;
        if (fragments.Count == 0) throw new DicomPixelDataException("encapsulated Pixel Data has no fragments");
        if (!extendedOffsetTable.IsEmpty)
        {
            if (extendedOffsetTable.Length != 8 * frames)
                throw new DicomPixelDataException($"Extended Offset Table holds {extendedOffsetTable.Length / 8} entries for {frames} frames");
            var offsets = new ulong[frames];
            for (int k = 0; k < frames; k++) offsets[k] = BinaryPrimitives.ReadUInt64LittleEndian(extendedOffsetTable[(8 * k)..]);
            return FromOffsets(fragments, offsets, "Extended Offset Table");
        }
        if (frames == 1) return [Enumerable.Range(0, fragments.Count).ToArray()];
        var table = f.OffsetTable.Span;
        if (table.Length == 4 * frames)
        {
            var offsets = new ulong[frames];
            for (int k = 0; k < frames; k++) offsets[k] = BinaryPrimitives.ReadUInt32LittleEndian(table[(4 * k)..]);
            return FromOffsets(fragments, offsets, "basic offset table");
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

    /// <summary>Frame k is the fragments from the one at offset k up to the next frame's (offsets count from the first item tag).</summary>
    private static int[][] FromOffsets(IReadOnlyList<ReadOnlyMemory<byte>> fragments, ulong[] offsets, string table)
    {
        // Each fragment item has an 8-byte header (tag and length) before its bytes.
        var starts = new ulong[fragments.Count];
        ulong pos = 0;
        for (int i = 0; i < fragments.Count; i++)
        {
            starts[i] = pos;
            pos += 8 + (ulong)fragments[i].Length;
        }
        int frames = offsets.Length;
        var firstFragment = new int[frames + 1];
        for (int k = 0; k < frames; k++)
        {
            int index = Array.BinarySearch(starts, offsets[k]);
            if (index < 0 || (k > 0 && index <= firstFragment[k - 1]))
                throw new DicomPixelDataException($"{table} entry {k} ({offsets[k]}) does not start a fragment in order");
            firstFragment[k] = index;
        }
        firstFragment[frames] = fragments.Count;
        return Enumerable.Range(0, frames)
            .Select(k => Enumerable.Range(firstFragment[k], firstFragment[k + 1] - firstFragment[k]).ToArray()).ToArray();
    }
}
