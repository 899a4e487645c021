namespace Pipeline.Dicom.Codecs;

/// <summary>
/// Lossless JPEG (T.81 annex H, process 14): Huffman-coded differences from one of seven predictors.
/// The first line (and the first line after each restart) predicts from the left neighbour only, the
/// first column from the sample above, and the very first sample from 2^(P-Pt-1) (H.1.2.1).
/// </summary>
internal static class JpegLossless
{
    public static void Decode(JpegStream s, ReadOnlySpan<byte> data, PixelDescription d, Span<byte> destination)
    {
        if (s.Scans.Count != 1) throw new DicomPixelDataException($"lossless JPEG with {s.Scans.Count} scans is not supported");
        var scan = s.Scans[0];
        int nc = s.Components.Count;
        if (scan.ComponentIndex.Length != nc) throw new DicomPixelDataException("lossless JPEG scan does not hold every component");
        if (nc != d.SamplesPerPixel) throw new DicomPixelDataException($"JPEG has {nc} components, Samples per Pixel is {d.SamplesPerPixel}");
        if (s.Width != d.Columns || s.Height != d.Rows) throw new DicomPixelDataException($"JPEG is {s.Width}x{s.Height}, the dataset says {d.Columns}x{d.Rows}");
        if (s.Components.Any(c => c.H != 1 || c.V != 1)) throw new DicomPixelDataException("subsampled lossless JPEG is not supported");
        int predictor = scan.Ss, pt = scan.Al;
        if (predictor is < 1 or > 7) throw new DicomPixelDataException($"lossless JPEG selection value {predictor} is not 1-7");
        var tables = new HuffmanTable[nc];
        for (int c = 0; c < nc; c++)
            tables[c] = scan.Dc[scan.DcTable[c]] ?? throw new DicomPixelDataException($"lossless JPEG Huffman table {scan.DcTable[c]} missing");

        int width = s.Width, height = s.Height;
        int initial = 1 << (s.Precision - pt - 1);
        var previous = new int[nc][];
        var current = new int[nc][];
        for (int c = 0; c < nc; c++) { previous[c] = new int[width]; current[c] = new int[width]; }
        var bits = new BitReader(data, scan.DataStart);
        int restart = scan.RestartInterval, mcusLeft = restart;
        bool firstLine = true;
        int firstLineStartX = 0;
        int bytesPerSample = d.BytesPerSample;
        int pixels = width * height;

        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                if (restart > 0)
                {
                    if (mcusLeft == 0)
                    {
                        bits.Restart();
                        mcusLeft = restart;
                        firstLine = true; // H.1.2.1: predictor resets as at the start of the scan
                        // The restart may fall mid-row: the rest of this row then predicts from the left.
                        firstLineStartX = x;
                    }
                    mcusLeft--;
                }
                for (int c = 0; c < nc; c++)
                {
                    int ssss = tables[c].Decode(ref bits);
                    if (ssss > 16) throw new DicomPixelDataException($"lossless JPEG difference category {ssss} > 16");
                    int diff = ssss == 16 ? 32768 : bits.Receive(ssss);
                    var row = current[c];
                    var up = previous[c];
                    int pred;
                    if (firstLine)
                        pred = x == firstLineStartX ? initial : row[x - 1];
                    else if (x == 0)
                        pred = up[0];
                    else
                    {
                        int ra = row[x - 1], rb = up[x], rc = up[x - 1];
                        pred = predictor switch
                        {
                            1 => ra,
                            2 => rb,
                            3 => rc,
                            4 => ra + rb - rc,
                            5 => ra + ((rb - rc) >> 1),
                            6 => rb + ((ra - rc) >> 1),
                            _ => (ra + rb) >> 1,
                        };
                    }
                    row[x] = (pred + diff) & 0xFFFF;
                }
            }
            if (bits.PaddedBits > 64) throw new DicomPixelDataException($"lossless JPEG data ends at row {y} of {height}");
            for (int c = 0; c < nc; c++)
            {
                var row = current[c];
                for (int x = 0; x < width; x++)
                {
                    int value = row[x] << pt;
                    int sampleIndex = d.PlanarConfiguration == 0 ? (y * width + x) * nc + c : c * pixels + y * width + x;
                    int at = sampleIndex * bytesPerSample;
                    destination[at] = (byte)value;
                    if (bytesPerSample > 1) destination[at + 1] = (byte)(value >> 8);
                    if (bytesPerSample > 2) { destination[at + 2] = 0; destination[at + 3] = 0; }
                }
                (previous[c], current[c]) = (current[c], previous[c]);
            }
            firstLine = false;
            firstLineStartX = 0;
        }
    }
}
