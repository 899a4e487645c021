using System.Buffers.Binary;

namespace Pipeline.Dicom.IO;

/// <summary>Where the pixel data element starts when a header-only read stopped before it.</summary>
public sealed record PixelDataLocation(long ValueOffset, long Length, DicomVR VR)
{
    public bool IsEncapsulated => Length == UndefinedLength;
    public const long UndefinedLength = 0xFFFFFFFF;
}

/// <summary>Parses data elements (PS3.5 section 7) from a <see cref="ByteSource"/>.</summary>
internal sealed class DicomParser(ByteSource src, DicomReadOptions options, long offsetBase)
{
    private const uint Undefined = 0xFFFFFFFF;
    private int _pos;
    private bool _explicit = true;
    private bool _little = true;

    public int Position { get => _pos; set => _pos = value; }

    /// <summary>Bytes a native Pixel Data value needs, from the image attributes read before it (null: not known).</summary>
    private long? _pixelBytes;

    /// <summary>Set when a header-only parse stopped at top-level pixel data.</summary>
    public PixelDataLocation? PixelData { get; private set; }

    public void SetSyntax(bool explicitVR, bool littleEndian)
    {
        _explicit = explicitVR;
        _little = littleEndian;
    }

    private long Abs(long pos) => offsetBase + pos;

    private void Need(long count, DicomTag? tag, string what)
    {
        if (src.Ensure(_pos + count)) return;
        if (src.LimitReached) throw src.Exceeded(Abs(_pos), tag);
        throw new DicomFormatException($"unexpected end of data reading {what} ({count} bytes needed, {src.Count - _pos} left)", Abs(_pos), tag);
    }

    private ushort U16(int at) => _little
        ? BinaryPrimitives.ReadUInt16LittleEndian(src.Buffer.AsSpan(at))
        : BinaryPrimitives.ReadUInt16BigEndian(src.Buffer.AsSpan(at));

    private uint U32(int at) => _little
        ? BinaryPrimitives.ReadUInt32LittleEndian(src.Buffer.AsSpan(at))
        : BinaryPrimitives.ReadUInt32BigEndian(src.Buffer.AsSpan(at));

    /// <summary>Peeks the group number of the next element; null at end of data.</summary>
    public ushort? PeekGroup()
    {
        if (!src.Ensure(_pos + 2)) return null;
        return U16(_pos);
    }

    /// <summary>
    /// Reads elements up to <paramref name="end"/> (-1: to an item delimiter when nested, to end of data at top level).
    /// </summary>
    public Dataset ParseDataset(long end, int depth, bool stopAtPixelData = false, ushort? onlyGroup = null)
    {
        var ds = new Dataset();
        while (true)
        {
            if (end >= 0 && _pos >= end) break;
            int start = _pos;
            if (!src.Ensure(_pos + 1))
            {
                if (depth == 0 && end < 0) break; // clean end of a top-level dataset
                Need(8, null, "element header");
            }
            Need(4, null, "element tag");
            var tag = new DicomTag(U16(_pos), U16(_pos + 2));
            if (onlyGroup is { } g && tag.Group != g) break;
            if (tag == DicomTag.ItemDelimitation)
            {
                Need(8, tag, "item delimitation");
                _pos += 8;
                if (depth > 0 && end < 0) return ds;
                throw new DicomFormatException("item delimitation outside an item of undefined length", Abs(start), tag);
            }
            if (tag.Group == 0xFFFE)
                throw new DicomFormatException("unexpected item tag in a dataset", Abs(start), tag);
            // The image attributes precede Pixel Data: refuse an image past the limits before reading (or inflating) it.
            if (depth == 0 && tag == DicomTags.PixelData) _pixelBytes = options.CheckImage(ds, Abs(start));
            if (stopAtPixelData && depth == 0 && tag == DicomTags.PixelData)
            {
                var (vr0, len0, hdr) = ReadHeader(tag);
                PixelData = new PixelDataLocation(Abs(_pos + hdr), len0, vr0);
                _pos = start;
                return ds;
            }
            var element = ReadElement(tag, depth, end);
            if (element is not null) ds.Add(element);
        }
        return ds;
    }

    /// <summary>Reads VR and length at the current position without consuming them.</summary>
    private (DicomVR VR, uint Length, int HeaderSize) ReadHeader(DicomTag tag)
    {
        if (_explicit)
        {
            Need(8, tag, "element header");
            byte c0 = src.Buffer[_pos + 4], c1 = src.Buffer[_pos + 5];
            if (!DicomVRInfo.TryParse(c0, c1, out var vr))
                throw new DicomFormatException($"invalid VR bytes 0x{c0:X2}{c1:X2}", Abs(_pos + 4), tag);
            if (vr.HasLongLength())
            {
                Need(12, tag, "element header");
                return (vr, U32(_pos + 8), 12);
            }
            return (vr, U16(_pos + 6), 8);
        }
        Need(8, tag, "element header");
        return (ImplicitVR(tag), U32(_pos + 4), 8);
    }

    private static DicomVR ImplicitVR(DicomTag tag) => DicomDictionary.VR(tag);

    private DicomElement? ReadElement(DicomTag tag, int depth, long end)
    {
        int start = _pos;
        var (vr, length, header) = ReadHeader(tag);
        _pos += header;
        if (length == Undefined)
        {
            if (tag == DicomTags.PixelData || (vr is DicomVR.OB or DicomVR.OW && depth == 0 && tag.Group == 0x7FE0))
                return ReadFragments(tag, vr == DicomVR.OW ? DicomVR.OW : DicomVR.OB, depth);
            if (vr == DicomVR.SQ) return ReadSequence(tag, depth, -1);
            if (vr == DicomVR.UN)
            {
                // PS3.5 6.2.2: UN of undefined length holds a sequence encoded in Implicit VR Little Endian.
                bool e = _explicit, l = _little;
                _explicit = false;
                _little = true;
                try { return ReadSequence(tag, depth, -1); }
                finally { _explicit = e; _little = l; }
            }
            throw new DicomFormatException($"undefined length on VR {vr}", Abs(start), tag);
        }
        if (end >= 0 && _pos + (long)length > end)
            throw new DicomFormatException($"value length {length} runs past the end of its enclosing item ({end - _pos} bytes left)", Abs(start), tag);
        // Pixel Data longer than its attributes need (PS3.5 8.1.1; a deflate bomb hides gigabytes of zeros there): the
        // excess is read past, not kept, so it costs time but no memory.
        long keep = depth == 0 && tag == DicomTags.PixelData && _pixelBytes is { } needed && length > needed + 1 ? needed + (needed & 1) : length;
        if (!src.Ensure(_pos + keep))
        {
            if (src.LimitReached) throw src.Exceeded(Abs(start), tag);
            throw new DicomFormatException($"value length {length} runs past the end of data ({src.Count - _pos} bytes left)", Abs(start), tag);
        }
        if (vr == DicomVR.SQ) return ReadSequence(tag, depth, _pos + length);
        var value = new ReadOnlyMemory<byte>(src.Buffer, _pos, (int)keep);
        _pos = keep == length ? _pos + (int)length : src.Skip(_pos + (int)keep, length - keep);
        if (_pos < 0)
        {
            if (src.LimitReached) throw src.Exceeded(Abs(start), tag);
            throw new DicomFormatException($"value length {length} runs past the end of data", Abs(start), tag);
        }
        if (!_little) value = SwapToLittle(value, vr);
        return new DicomValueElement(tag, vr, value);
    }

    private static ReadOnlyMemory<byte> SwapToLittle(ReadOnlyMemory<byte> value, DicomVR vr)
    {
        int unit = vr.SwapUnit();
        if (unit == 1) return value;
        var copy = value.ToArray();
        for (int i = 0; i + unit <= copy.Length; i += unit) copy.AsSpan(i, unit).Reverse();
        return copy;
    }

    private DicomSequence ReadSequence(DicomTag tag, int depth, long end)
    {
        if (depth + 1 > options.MaxDepth)
            throw DicomReadOptions.Exceeded(nameof(options.MaxDepth), $"sequence nesting deeper than {options.MaxDepth}", Abs(_pos), tag);
        var items = new List<Dataset>();
        while (end < 0 || _pos < end)
        {
            int start = _pos;
            Need(8, tag, "item header");
            var itemTag = new DicomTag(U16(_pos), U16(_pos + 2));
            uint length = U32(_pos + 4);
            _pos += 8;
            if (itemTag == DicomTag.SequenceDelimitation)
            {
                if (end < 0) break;
                throw new DicomFormatException("sequence delimitation in a sequence of defined length", Abs(start), tag);
            }
            if (itemTag != DicomTag.Item)
                throw new DicomFormatException($"expected an item tag in the sequence, found {itemTag}", Abs(start), tag);
            if (length == Undefined)
            {
                items.Add(ParseDataset(-1, depth + 1));
                continue;
            }
            long itemEnd = _pos + (long)length;
            if (end >= 0 && itemEnd > end)
                throw new DicomFormatException($"item length {length} runs past the end of its sequence", Abs(start), tag);
            if (!src.Ensure(itemEnd))
                throw new DicomFormatException($"item length {length} runs past the end of data", Abs(start), tag);
            items.Add(ParseDataset(itemEnd, depth + 1));
            _pos = (int)itemEnd;
        }
        return new DicomSequence(tag, items);
    }

    private DicomFragments ReadFragments(DicomTag tag, DicomVR vr, int depth)
    {
        var fragments = new List<ReadOnlyMemory<byte>>();
        ReadOnlyMemory<byte>? offsetTable = null;
        while (true)
        {
            int start = _pos;
            Need(8, tag, "fragment header");
            var itemTag = new DicomTag(U16(_pos), U16(_pos + 2));
            uint length = U32(_pos + 4);
            _pos += 8;
            if (itemTag == DicomTag.SequenceDelimitation) break;
            if (itemTag != DicomTag.Item)
                throw new DicomFormatException($"expected a fragment item in encapsulated pixel data, found {itemTag}", Abs(start), tag);
            if (length == Undefined)
                throw new DicomFormatException("fragment of undefined length", Abs(start), tag);
            if (!src.Ensure(_pos + (long)length))
                throw new DicomFormatException($"fragment length {length} runs past the end of data ({src.Count - _pos} bytes left)", Abs(start), tag);
            var value = new ReadOnlyMemory<byte>(src.Buffer, _pos, (int)length);
            _pos += (int)length;
            if (offsetTable is null) offsetTable = value;
            else fragments.Add(value);
        }
        _ = depth;
        return new DicomFragments(tag, vr, offsetTable ?? default, fragments);
    }

    /// <summary>True when the bytes at the current position look like an Explicit VR element header.</summary>
    public bool LooksExplicit()
    {
        if (!src.Ensure(_pos + 6)) return _explicit;
        return DicomVRInfo.TryParse(src.Buffer[_pos + 4], src.Buffer[_pos + 5], out _);
    }
}
