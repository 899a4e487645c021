using System.Buffers.Binary;

namespace Pipeline.Dicom.Codecs;

/// <summary>
/// JPEG codestreams in DICOM: lossless process 14 (all selection values, our own decoder, ITU T.81
/// annex H) and baseline/extended DCT processes 1, 2 and 4 (<see cref="JpegDctDecoder"/>).
/// </summary>
internal sealed class JpegDecoder : IFrameDecoder
{
    public static readonly JpegDecoder Instance = new();

    public void Decode(ReadOnlySpan<byte> codestream, PixelDescription description, Span<byte> destination)
    {
        var frame = JpegStream.Parse(codestream);
        if (frame.Lossless) JpegLossless.Decode(frame, codestream, description, destination);
        else JpegDctDecoder.Decode(frame, codestream, description, destination);
    }
}

/// <summary>Markers of one JPEG frame: SOF, Huffman/quantisation tables, scans, restart interval.</summary>
internal sealed class JpegStream
{
    public bool Lossless;
    public int SofMarker;
    public int Precision, Height, Width;
    public readonly List<Component> Components = [];
    public readonly HuffmanTable?[] DcTables = new HuffmanTable?[4];
    public readonly HuffmanTable?[] AcTables = new HuffmanTable?[4];
    public readonly int[]?[] QuantTables = new int[]?[4];
    public readonly List<Scan> Scans = [];
    public bool AdobeTransformNone;
    public bool HasJfif;

    public sealed class Component
    {
        public int Id, H, V, Tq;
    }

    public sealed class Scan
    {
        public int[] ComponentIndex = [];
        public int[] DcTable = [];
        public int[] AcTable = [];
        public int Ss, Se, Ah, Al;
        public int RestartInterval;
        public int DataStart;
        /// <summary>Huffman tables in force when the scan started (DHT may come between scans).</summary>
        public HuffmanTable?[] Dc = [];
        public HuffmanTable?[] Ac = [];
        /// <summary>Quantisation tables in force when the scan started (IJG latches them at a component's first scan).</summary>
        public int[]?[] Quant = [];
    }

    public static JpegStream Parse(ReadOnlySpan<byte> data)
    {
        var s = new JpegStream();
        if (data.Length < 4 || data[0] != 0xFF || data[1] != 0xD8)
            throw new DicomPixelDataException("JPEG codestream does not start with SOI (FFD8)");
        int pos = 2, restart = 0;
        bool sawFrame = false;
        while (pos + 4 <= data.Length)
        {
            if (data[pos] != 0xFF) throw new DicomPixelDataException($"JPEG marker expected at byte {pos}");
            int marker = data[pos + 1];
            if (marker == 0xFF) { pos++; continue; } // fill bytes
            if (marker == 0xD9) break;
            if (marker is >= 0xD0 and <= 0xD7 or 0x01) { pos += 2; continue; }
            int length = BinaryPrimitives.ReadUInt16BigEndian(data[(pos + 2)..]);
            if (length < 2 || pos + 2 + length > data.Length)
                throw new DicomPixelDataException($"JPEG segment FF{marker:X2} length {length} runs past the data");
            var seg = data.Slice(pos + 4, length - 2);
            switch (marker)
            {
                case 0xC0 or 0xC1 or 0xC3:
                    if (sawFrame) throw new DicomPixelDataException("JPEG codestream with several frames (hierarchical) is not supported");
                    sawFrame = true;
                    s.SofMarker = marker;
                    s.Lossless = marker == 0xC3;
                    ParseSof(s, seg);
                    break;
                case 0xC2 or 0xC5 or 0xC6 or 0xC7 or 0xC9 or 0xCA or 0xCB or 0xCD or 0xCE or 0xCF:
                    throw new DicomPixelDataException($"JPEG process with SOF marker FF{marker:X2} (progressive, hierarchical or arithmetic) is not supported");
                case 0xC4: ParseDht(s, seg); break;
                case 0xDB: ParseDqt(s, seg); break;
                case 0xDD:
                    if (seg.Length < 2) throw new DicomPixelDataException("JPEG DRI segment too short");
                    restart = BinaryPrimitives.ReadUInt16BigEndian(seg);
                    break;
                case 0xE0:
                    s.HasJfif = seg.Length >= 5 && seg[..5].SequenceEqual("JFIF\0"u8);
                    break;
                case 0xEE:
                    if (seg.Length >= 12 && seg[..5].SequenceEqual("Adobe"u8)) s.AdobeTransformNone = seg[11] == 0;
                    break;
                case 0xDA:
                    if (!sawFrame) throw new DicomPixelDataException("JPEG scan before frame header");
                    var scan = ParseSos(s, seg);
                    scan.RestartInterval = restart;
                    scan.DataStart = pos + 2 + length;
                    scan.Dc = (HuffmanTable?[])s.DcTables.Clone();
                    scan.Ac = (HuffmanTable?[])s.AcTables.Clone();
                    scan.Quant = (int[]?[])s.QuantTables.Clone();
                    s.Scans.Add(scan);
                    pos = SkipEntropyData(data, scan.DataStart);
                    continue;
            }
            pos += 2 + length;
        }
        if (!sawFrame || s.Scans.Count == 0) throw new DicomPixelDataException("JPEG codestream has no frame or no scan");
        return s;
    }

    /// <summary>Position of the first marker after entropy-coded data that is not a stuffed zero or restart marker.</summary>
    private static int SkipEntropyData(ReadOnlySpan<byte> data, int pos)
    {
        while (pos + 1 < data.Length)
        {
            if (data[pos] == 0xFF)
            {
                byte next = data[pos + 1];
                if (next == 0 || next is >= 0xD0 and <= 0xD7 || next == 0xFF) { pos += next == 0xFF ? 1 : 2; continue; }
                return pos;
            }
            pos++;
        }
        return data.Length;
    }

    private static void ParseSof(JpegStream s, ReadOnlySpan<byte> seg)
    {
        if (seg.Length < 6) throw new DicomPixelDataException("JPEG SOF segment too short");
        s.Precision = seg[0];
        s.Height = BinaryPrimitives.ReadUInt16BigEndian(seg[1..]);
        s.Width = BinaryPrimitives.ReadUInt16BigEndian(seg[3..]);
        int n = seg[5];
        if (n is < 1 or > 4 || seg.Length < 6 + 3 * n) throw new DicomPixelDataException($"JPEG SOF with {n} components is malformed");
        if (s.Precision is < 2 or > 16) throw new DicomPixelDataException($"JPEG precision {s.Precision} is invalid");
        for (int i = 0; i < n; i++)
        {
            var c = new Component { Id = seg[6 + 3 * i], H = seg[7 + 3 * i] >> 4, V = seg[7 + 3 * i] & 15, Tq = seg[8 + 3 * i] & 3 };
            if (c.H is < 1 or > 4 || c.V is < 1 or > 4) throw new DicomPixelDataException("JPEG sampling factors out of range");
            s.Components.Add(c);
        }
    }

    private static void ParseDht(JpegStream s, ReadOnlySpan<byte> seg)
    {
        int p = 0;
        while (p < seg.Length)
        {
            if (p + 17 > seg.Length) throw new DicomPixelDataException("JPEG DHT segment truncated");
            int tc = seg[p] >> 4, th = seg[p] & 15;
            if (tc > 1 || th > 3) throw new DicomPixelDataException("JPEG DHT table class/id out of range");
            var counts = seg.Slice(p + 1, 16);
            int total = 0;
            foreach (var c in counts) total += c;
            if (p + 17 + total > seg.Length || total > 256) throw new DicomPixelDataException("JPEG DHT values truncated");
            var table = new HuffmanTable(counts, seg.Slice(p + 17, total));
            if (tc == 0) s.DcTables[th] = table;
            else s.AcTables[th] = table;
            p += 17 + total;
        }
    }

    private static void ParseDqt(JpegStream s, ReadOnlySpan<byte> seg)
    {
        int p = 0;
        while (p < seg.Length)
        {
            int pq = seg[p] >> 4, tq = seg[p] & 3;
            int size = pq == 0 ? 64 : 128;
            if (p + 1 + size > seg.Length) throw new DicomPixelDataException("JPEG DQT segment truncated");
            var q = new int[64];
            for (int i = 0; i < 64; i++)
                q[i] = pq == 0 ? seg[p + 1 + i] : BinaryPrimitives.ReadUInt16BigEndian(seg[(p + 1 + 2 * i)..]);
            s.QuantTables[tq] = q;
            p += 1 + size;
        }
    }

    private static Scan ParseSos(JpegStream s, ReadOnlySpan<byte> seg)
    {
        if (seg.Length < 1) throw new DicomPixelDataException("JPEG SOS segment too short");
        int n = seg[0];
        if (n is < 1 or > 4 || seg.Length < 1 + 2 * n + 3) throw new DicomPixelDataException("JPEG SOS segment malformed");
        var scan = new Scan { ComponentIndex = new int[n], DcTable = new int[n], AcTable = new int[n] };
        for (int i = 0; i < n; i++)
        {
            int id = seg[1 + 2 * i];
            int index = s.Components.FindIndex(c => c.Id == id);
            if (index < 0) throw new DicomPixelDataException($"JPEG scan names unknown component {id}");
            scan.ComponentIndex[i] = index;
            scan.DcTable[i] = seg[2 + 2 * i] >> 4 & 3;
            scan.AcTable[i] = seg[2 + 2 * i] & 3;
        }
        scan.Ss = seg[1 + 2 * n];
        scan.Se = seg[2 + 2 * n];
        scan.Ah = seg[3 + 2 * n] >> 4;
        scan.Al = seg[3 + 2 * n] & 15;
        return scan;
    }
}

/// <summary>A canonical Huffman table (T.81 annex C) with an 8-bit fast lookup.</summary>
internal sealed class HuffmanTable
{
    private readonly int[] _maxCode = new int[18];
    private readonly int[] _valPtr = new int[17];
    private readonly byte[] _values;
    private readonly short[] _fast = new short[256]; // (length << 8 | value) or -1

    public HuffmanTable(ReadOnlySpan<byte> counts, ReadOnlySpan<byte> values)
    {
        _values = values.ToArray();
        Array.Fill(_fast, (short)-1);
        int code = 0, k = 0;
        for (int len = 1; len <= 16; len++)
        {
            _valPtr[len] = k - code;
            int n = counts[len - 1];
            for (int i = 0; i < n; i++, k++, code++)
            {
                // As IJG: codes must fit in len bits and the all-ones code is reserved (T.81 C.2).
                if (code >= (1 << len) - 1) throw new DicomPixelDataException($"JPEG Huffman table has more codes of length {len} than fit");
                if (len <= 8)
                {
                    int shift = 8 - len;
                    for (int j = 0; j < 1 << shift; j++) _fast[(code << shift) | j] = (short)(len << 8 | _values[k]);
                }
            }
            _maxCode[len] = n > 0 ? code - 1 : -1;
            code <<= 1;
        }
        _maxCode[17] = int.MaxValue;
    }

    public int Decode(ref BitReader bits)
    {
        int peek = bits.Peek8();
        int fast = _fast[peek];
        if (fast >= 0)
        {
            bits.Skip(fast >> 8);
            return fast & 0xFF;
        }
        int code = bits.ReadBits(8);
        for (int len = 9; len <= 16; len++)
        {
            code = (code << 1) | bits.ReadBit();
            if (_maxCode[len] >= 0 && code <= _maxCode[len]) return _values[Index(code, len)];
        }
        throw new DicomPixelDataException("invalid JPEG Huffman code");
    }

    private int Index(int code, int len)
    {
        int i = _valPtr[len] + code;
        if ((uint)i >= (uint)_values.Length) throw new DicomPixelDataException("invalid JPEG Huffman code");
        return i;
    }
}

/// <summary>Entropy-coded segment reader: removes stuffed zero bytes, stops at markers (feeds zeros past them).</summary>
internal ref struct BitReader(ReadOnlySpan<byte> data, int start)
{
    private readonly ReadOnlySpan<byte> _data = data;
    private int _pos = start;
    private ulong _acc;
    private int _count;
    public int PaddedBits;

    private void Fill()
    {
        while (_count <= 56)
        {
            int b = 0;
            if (_pos < _data.Length)
            {
                b = _data[_pos];
                if (b == 0xFF)
                {
                    int next = _pos + 1 < _data.Length ? _data[_pos + 1] : 0xD9;
                    if (next == 0) { _pos += 2; }
                    else { b = 0; PaddedBits += 8; } // a marker: do not consume, feed zeros
                }
                else _pos++;
            }
            else PaddedBits += 8;
            _acc |= (ulong)b << (56 - _count);
            _count += 8;
        }
    }

    public int Peek8()
    {
        if (_count < 8) Fill();
        return (int)(_acc >> 56);
    }

    public void Skip(int n)
    {
        if (_count < n) Fill();
        _acc <<= n;
        _count -= n;
    }

    public int ReadBit() => ReadBits(1);

    public int ReadBits(int n)
    {
        if (n == 0) return 0;
        if (_count < n) Fill();
        int v = (int)(_acc >> (64 - n));
        _acc <<= n;
        _count -= n;
        return v;
    }

    /// <summary>Receive and extend (T.81 F.2.2.1): an s-bit magnitude to a signed difference.</summary>
    public int Receive(int s)
    {
        if (s == 0) return 0;
        int v = ReadBits(s);
        return v < 1 << (s - 1) ? v - (1 << s) + 1 : v;
    }

    /// <summary>At a restart interval: drop the partial byte and the RSTn marker.</summary>
    public void Restart()
    {
        _acc = 0;
        _count = 0;
        PaddedBits = 0; // zeros read ahead into the marker were never used
        while (_pos + 1 < _data.Length && !(_data[_pos] == 0xFF && _data[_pos + 1] is >= 0xD0 and <= 0xD7)) _pos++;
        if (_pos + 1 < _data.Length) _pos += 2;
    }
}
