namespace Pipeline.Dicom.Codecs;

/// <summary>
/// Sequential DCT JPEG with Huffman coding (T.81 annex F): baseline (process 1, 8-bit) and extended
/// (processes 2 and 4, 8/12-bit), interleaved or one scan per component, restart intervals.
/// Every step follows IJG libjpeg 6b, the library dcmtk's dcmdjpeg uses, so that output is
/// byte-identical to it: the islow integer IDCT (<see cref="IjgIdct"/>), its sample range limiting,
/// fancy upsampling and YCbCr to RGB tables (<see cref="IjgColor"/>).
/// </summary>
internal static class JpegDctDecoder
{
    /// <summary>Zig-zag position to natural (row-major) position; IJG's 16 extra entries absorb run overflows.</summary>
    private static readonly byte[] NaturalOrder =
    [
        0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5,
        12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28,
        35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51,
        58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
        63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63,
    ];

    public static void Decode(JpegStream s, ReadOnlySpan<byte> data, PixelDescription d, Span<byte> destination)
    {
        if (s.SofMarker == 0xC0 && s.Precision != 8) throw new DicomPixelDataException($"baseline JPEG with precision {s.Precision} (must be 8)");
        if (s.Precision is not (8 or 12)) throw new DicomPixelDataException($"DCT JPEG precision {s.Precision} is not 8 or 12");
        int nc = s.Components.Count;
        if (nc != d.SamplesPerPixel) throw new DicomPixelDataException($"JPEG has {nc} components, Samples per Pixel is {d.SamplesPerPixel}");
        if (s.Width != d.Columns || s.Height != d.Rows) throw new DicomPixelDataException($"JPEG is {s.Width}x{s.Height}, the dataset says {d.Columns}x{d.Rows}");
        if (d.BitsAllocated < s.Precision) throw new DicomPixelDataException($"JPEG precision {s.Precision} does not fit Bits Allocated {d.BitsAllocated}");

        int hMax = s.Components.Max(c => c.H), vMax = s.Components.Max(c => c.V);
        int mcusX = DivCeil(s.Width, 8 * hMax), mcusY = DivCeil(s.Height, 8 * vMax);
        var planes = new ComponentPlane[nc];
        for (int c = 0; c < nc; c++)
        {
            var comp = s.Components[c];
            planes[c] = new ComponentPlane(
                DivCeil(s.Width * comp.H, hMax), DivCeil(s.Height * comp.V, vMax),
                mcusX * comp.H, mcusY * comp.V, comp.H, comp.V);
        }
        var decoded = new bool[nc];
        foreach (var scan in s.Scans)
        {
            // A sequential scan's Ss, Se, Ah, Al must be 0, 63, 0, 0 (T.81 B.2.3), but some encoders write zeros: like IJG
            // libjpeg (and so dcmdjpeg), which only warns, they are ignored and every block holds all 64 coefficients.
            foreach (int c in scan.ComponentIndex)
            {
                if (decoded[c]) throw new DicomPixelDataException($"JPEG component {s.Components[c].Id} appears in two scans");
                decoded[c] = true;
                int tq = s.Components[c].Tq;
                var zigzag = scan.Quant[tq] ?? throw new DicomPixelDataException($"JPEG quantisation table {tq} missing");
                for (int k = 0; k < 64; k++) planes[c].Quant[NaturalOrder[k]] = zigzag[k]; // DQT lists values in zig-zag order
            }
            DecodeScan(s, scan, data, planes, mcusX, mcusY);
        }
        if (decoded.Any(x => !x)) throw new DicomPixelDataException("JPEG scans do not cover every component");

        // nc equals Samples per Pixel, which is 1 or 3 (PixelDescription.Validate).
        if (nc == 1) Write(planes[0].Samples, planes[0].Stride, d, 0, destination);
        else IjgColor.ToInterleavedOrPlanar(planes, s, d, ConvertsToRgb(d), destination);
    }

    /// <summary>dcmdjpeg's default (--conv-photometric): colour-convert to RGB exactly when the dataset says YBR.</summary>
    internal static bool ConvertsToRgb(PixelDescription d) =>
        d.SamplesPerPixel == 3 && d.Photometric.StartsWith("YBR_", StringComparison.Ordinal);

    private static int DivCeil(int a, int b) => (a + b - 1) / b;

    /// <summary>Writes one sample plane (cropped to the image) as native little-endian samples.</summary>
    internal static void Write(int[] samples, int stride, PixelDescription d, int sample, Span<byte> destination)
    {
        int width = d.Columns, height = d.Rows, bytes = d.BytesPerSample, nc = d.SamplesPerPixel;
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
            {
                int value = samples[y * stride + x];
                int index = d.PlanarConfiguration == 0 ? (y * width + x) * nc + sample : sample * width * height + y * width + x;
                int at = index * bytes;
                destination[at] = (byte)value;
                if (bytes > 1) destination[at + 1] = (byte)(value >> 8);
                if (bytes > 2) { destination[at + 2] = 0; destination[at + 3] = 0; }
            }
    }

    private static void DecodeScan(JpegStream s, JpegStream.Scan scan, ReadOnlySpan<byte> data, ComponentPlane[] planes, int mcusX, int mcusY)
    {
        int n = scan.ComponentIndex.Length;
        var dc = new HuffmanTable[n];
        var ac = new HuffmanTable[n];
        for (int i = 0; i < n; i++)
        {
            dc[i] = scan.Dc[scan.DcTable[i]] ?? throw new DicomPixelDataException($"JPEG DC Huffman table {scan.DcTable[i]} missing");
            ac[i] = scan.Ac[scan.AcTable[i]] ?? throw new DicomPixelDataException($"JPEG AC Huffman table {scan.AcTable[i]} missing");
        }
        // A scan of one component codes its blocks one by one, covering only the component's own size (A.2.2).
        bool interleaved = n > 1;
        var single = planes[scan.ComponentIndex[0]];
        int columns = interleaved ? mcusX : DivCeil(single.Width, 8);
        int rows = interleaved ? mcusY : DivCeil(single.Height, 8);
        int maxDcCategory = s.Precision == 8 ? 11 : 15;
        var predictions = new int[n];
        var block = new short[64];
        var workspace = new int[64];
        var bits = new BitReader(data, scan.DataStart);
        int restart = scan.RestartInterval, mcusLeft = restart;
        for (int my = 0; my < rows; my++)
        {
            for (int mx = 0; mx < columns; mx++)
            {
                if (restart > 0)
                {
                    if (mcusLeft == 0)
                    {
                        bits.Restart();
                        predictions.AsSpan().Clear();
                        mcusLeft = restart;
                    }
                    mcusLeft--;
                }
                for (int i = 0; i < n; i++)
                {
                    var plane = planes[scan.ComponentIndex[i]];
                    int bh = interleaved ? plane.H : 1, bv = interleaved ? plane.V : 1;
                    for (int v = 0; v < bv; v++)
                        for (int h = 0; h < bh; h++)
                        {
                            DecodeBlock(ref bits, dc[i], ac[i], ref predictions[i], maxDcCategory, block);
                            int bx = mx * bh + h, by = my * bv + v;
                            IjgIdct.Islow(block, plane.Quant, workspace, s.Precision, plane.Samples.AsSpan(by * 8 * plane.Stride + bx * 8), plane.Stride);
                        }
                }
            }
            if (bits.PaddedBits > 64) throw new DicomPixelDataException($"JPEG data ends at MCU row {my} of {rows}");
        }
    }

    /// <summary>One 8x8 block of quantised coefficients in natural order (T.81 F.2.2), truncated to 16 bits as IJG's JCOEF.</summary>
    private static void DecodeBlock(ref BitReader bits, HuffmanTable dc, HuffmanTable ac, ref int prediction, int maxDcCategory, Span<short> block)
    {
        block.Clear();
        int t = dc.Decode(ref bits);
        if (t > maxDcCategory) throw new DicomPixelDataException($"JPEG DC difference category {t} > {maxDcCategory}");
        prediction += bits.Receive(t);
        block[0] = (short)prediction;
        for (int k = 1; k < 64; k++)
        {
            int rs = ac.Decode(ref bits);
            int r = rs >> 4, size = rs & 15;
            if (size != 0)
            {
                k += r;
                block[NaturalOrder[k]] = (short)bits.Receive(size);
            }
            else
            {
                if (r != 15) break;
                k += 15;
            }
        }
    }
}

/// <summary>One component's samples, in whole blocks (padded past the component's own size).</summary>
internal sealed class ComponentPlane(int width, int height, int blocksX, int blocksY, int h, int v)
{
    /// <summary>Samples that belong to the image (T.81 A.1.1: ceil(X * H / Hmax)).</summary>
    public readonly int Width = width, Height = height;
    public readonly int H = h, V = v;
    public readonly int Stride = blocksX * 8;
    public readonly int[] Samples = new int[blocksX * 8 * blocksY * 8];
    /// <summary>Dequantisation factors in natural order, from the table in force at the component's scan.</summary>
    public readonly int[] Quant = new int[64];
}
