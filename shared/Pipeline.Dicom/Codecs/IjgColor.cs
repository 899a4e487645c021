namespace Pipeline.Dicom.Codecs;

/// <summary>
/// Three-component DCT JPEG to full-resolution samples as IJG libjpeg 6b does it by default:
/// "fancy" (triangle-filter) upsampling for 2:1 horizontal and 2:1 x 2:1 chroma (jdsample.c),
/// replication for other integral factors, then its fixed-point YCbCr to RGB tables (jdcolor.c).
/// </summary>
internal static class IjgColor
{
    private const int ScaleBits = 16;
    private const long OneHalf = 1L << (ScaleBits - 1);

    private static long Fix(double x) => (long)(x * (1L << ScaleBits) + 0.5);

    public static void ToInterleavedOrPlanar(ComponentPlane[] planes, JpegStream s, PixelDescription d, bool ybrToRgb, Span<byte> destination)
    {
        int width = s.Width, height = s.Height;
        int hMax = s.Components.Max(c => c.H), vMax = s.Components.Max(c => c.V);
        var full = new int[planes.Length][];
        for (int c = 0; c < planes.Length; c++) full[c] = Upsample(planes[c], hMax / planes[c].H, vMax / planes[c].V, hMax % planes[c].H + vMax % planes[c].V != 0, width, height);
        if (ybrToRgb) YccToRgb(full[0], full[1], full[2], s.Precision);
        for (int c = 0; c < planes.Length; c++) JpegDctDecoder.Write(full[c], width, d, c, destination);
    }

    private static int[] Upsample(ComponentPlane p, int fh, int fv, bool fractional, int width, int height)
    {
        if (fractional) throw new DicomPixelDataException("JPEG sampling factors that are not integral multiples are not supported");
        var output = new int[width * height];
        var src = p.Samples;
        int dw = p.Width, dh = p.Height, stride = p.Stride;
        if (fh == 2 && fv == 1 && dw > 2)
        {
            var row = new int[2 * dw];
            for (int y = 0; y < height; y++)
            {
                FancyRow(src.AsSpan(y * stride, dw), row);
                row.AsSpan(0, width).CopyTo(output.AsSpan(y * width));
            }
        }
        else if (fh == 2 && fv == 2 && dw > 2)
        {
            var row = new int[2 * dw];
            for (int y = 0; y < height; y++)
            {
                // Each output row leans 3:1 towards its own input row and 1:1 towards the nearer neighbour row;
                // rows outside the component repeat its first/last row (jdmainct.c context rows).
                int near = y / 2, far = Math.Clamp(y % 2 == 0 ? near - 1 : near + 1, 0, dh - 1);
                FancyRow2(src.AsSpan(near * stride, dw), src.AsSpan(far * stride, dw), row);
                row.AsSpan(0, width).CopyTo(output.AsSpan(y * width));
            }
        }
        else
        {
            for (int y = 0; y < height; y++)
                for (int x = 0; x < width; x++)
                    output[y * width + x] = src[y / fv * stride + x / fh];
        }
        return output;
    }

    /// <summary>h2v1_fancy_upsample: each output sample is 3/4 the nearer input plus 1/4 the further, alternate rounding.</summary>
    private static void FancyRow(ReadOnlySpan<int> input, Span<int> output)
    {
        int n = input.Length, o = 0;
        output[o++] = input[0];
        output[o++] = (input[0] * 3 + input[1] + 2) >> 2;
        for (int i = 1; i < n - 1; i++)
        {
            int value = input[i] * 3;
            output[o++] = (value + input[i - 1] + 1) >> 2;
            output[o++] = (value + input[i + 1] + 2) >> 2;
        }
        output[o++] = (input[n - 1] * 3 + input[n - 2] + 1) >> 2;
        output[o] = input[n - 1];
    }

    /// <summary>h2v2_fancy_upsample for one output row: column sums 3 x near + far, then 3:1 horizontally.</summary>
    private static void FancyRow2(ReadOnlySpan<int> near, ReadOnlySpan<int> far, Span<int> output)
    {
        int n = near.Length, o = 0;
        int thisSum = near[0] * 3 + far[0], nextSum = near[1] * 3 + far[1];
        output[o++] = (thisSum * 4 + 8) >> 4;
        output[o++] = (thisSum * 3 + nextSum + 7) >> 4;
        int lastSum = thisSum;
        thisSum = nextSum;
        for (int i = 2; i < n; i++)
        {
            nextSum = near[i] * 3 + far[i];
            output[o++] = (thisSum * 3 + lastSum + 8) >> 4;
            output[o++] = (thisSum * 3 + nextSum + 7) >> 4;
            lastSum = thisSum;
            thisSum = nextSum;
        }
        output[o++] = (thisSum * 3 + lastSum + 8) >> 4;
        output[o] = (thisSum * 4 + 7) >> 4;
    }

    /// <summary>jdcolor.c ycc_rgb_convert (JFIF full-range YCbCr), in place: planes become R, G, B.</summary>
    private static void YccToRgb(int[] y, int[] cb, int[] cr, int precision)
    {
        int max = (1 << precision) - 1, center = 1 << (precision - 1);
        var crR = new int[max + 1];
        var cbB = new int[max + 1];
        var crG = new long[max + 1];
        var cbG = new long[max + 1];
        for (int i = 0, x = -center; i <= max; i++, x++)
        {
            crR[i] = (int)((Fix(1.40200) * x + OneHalf) >> ScaleBits);
            cbB[i] = (int)((Fix(1.77200) * x + OneHalf) >> ScaleBits);
            crG[i] = -Fix(0.71414) * x;
            cbG[i] = -Fix(0.34414) * x + OneHalf;
        }
        for (int i = 0; i < y.Length; i++)
        {
            int luma = y[i], b = cb[i], r = cr[i];
            y[i] = Math.Clamp(luma + crR[r], 0, max);
            cb[i] = Math.Clamp(luma + (int)((cbG[b] + crG[r]) >> ScaleBits), 0, max);
            cr[i] = Math.Clamp(luma + cbB[b], 0, max);
        }
    }
}
