namespace Pipeline.Dicom.Codecs;

/// <summary>
/// IJG libjpeg 6b's "islow" inverse DCT (jidctint.c, the Loeffler-Ligtenberg-Moschytz algorithm in
/// 13-bit fixed point), reproduced operation for operation so that lossy JPEG decodes to the same
/// samples as dcmtk. Intermediates are 64-bit as IJG's INT32 (a C long) is on 64-bit Linux.
/// </summary>
internal static class IjgIdct
{
    private const int ConstBits = 13;
    private const long Fix0_298631336 = 2446, Fix0_390180644 = 3196, Fix0_541196100 = 4433, Fix0_765366865 = 6270,
        Fix0_899976223 = 7373, Fix1_175875602 = 9633, Fix1_501321110 = 12299, Fix1_847759065 = 15137,
        Fix1_961570560 = 16069, Fix2_053119869 = 16819, Fix2_562915447 = 20995, Fix3_072711026 = 25172;

    private static long Descale(long x, int n) => (x + (1L << (n - 1))) >> n;

    /// <summary>
    /// Dequantises and inverse-transforms one block (natural order) into 8x8 level-shifted samples
    /// clamped to [0, 2^precision - 1] through IJG's wrap-around range-limit table.
    /// </summary>
    public static void Islow(ReadOnlySpan<short> block, ReadOnlySpan<int> quant, Span<int> workspace, int precision, Span<int> output, int stride)
    {
        // IJG keeps two more fraction bits between passes at 8 bits, one at 12 (to avoid overflow).
        int pass1Bits = precision == 8 ? 2 : 1;
        int max = (1 << precision) - 1, center = 1 << (precision - 1), rangeMask = max * 4 + 3;

        // Pass 1: columns from the input into the workspace, scaled up by 2^pass1Bits.
        for (int col = 0; col < 8; col++)
        {
            if (block[8 + col] == 0 && block[16 + col] == 0 && block[24 + col] == 0 && block[32 + col] == 0 &&
                block[40 + col] == 0 && block[48 + col] == 0 && block[56 + col] == 0)
            {
                int dcval = (block[col] * quant[col]) << pass1Bits;
                for (int row = 0; row < 8; row++) workspace[row * 8 + col] = dcval;
                continue;
            }
            long z2 = block[16 + col] * quant[16 + col];
            long z3 = block[48 + col] * quant[48 + col];
            long z1 = (z2 + z3) * Fix0_541196100;
            long tmp2 = z1 + z3 * -Fix1_847759065;
            long tmp3 = z1 + z2 * Fix0_765366865;
            z2 = block[col] * quant[col];
            z3 = block[32 + col] * quant[32 + col];
            long tmp0 = (z2 + z3) << ConstBits;
            long tmp1 = (z2 - z3) << ConstBits;
            long tmp10 = tmp0 + tmp3, tmp13 = tmp0 - tmp3, tmp11 = tmp1 + tmp2, tmp12 = tmp1 - tmp2;

            tmp0 = block[56 + col] * quant[56 + col];
            tmp1 = block[40 + col] * quant[40 + col];
            tmp2 = block[24 + col] * quant[24 + col];
            tmp3 = block[8 + col] * quant[8 + col];
            Odd(ref tmp0, ref tmp1, ref tmp2, ref tmp3);

            int shift = ConstBits - pass1Bits;
            workspace[col] = (int)Descale(tmp10 + tmp3, shift);
            workspace[56 + col] = (int)Descale(tmp10 - tmp3, shift);
            workspace[8 + col] = (int)Descale(tmp11 + tmp2, shift);
            workspace[48 + col] = (int)Descale(tmp11 - tmp2, shift);
            workspace[16 + col] = (int)Descale(tmp12 + tmp1, shift);
            workspace[40 + col] = (int)Descale(tmp12 - tmp1, shift);
            workspace[24 + col] = (int)Descale(tmp13 + tmp0, shift);
            workspace[32 + col] = (int)Descale(tmp13 - tmp0, shift);
        }

        // Pass 2: rows from the workspace to samples, removing the 2^pass1Bits and the factor 8.
        int outShift = ConstBits + pass1Bits + 3;
        for (int row = 0; row < 8; row++)
        {
            var w = workspace.Slice(row * 8, 8);
            var o = output.Slice(row * stride, 8);
            if (w[1] == 0 && w[2] == 0 && w[3] == 0 && w[4] == 0 && w[5] == 0 && w[6] == 0 && w[7] == 0)
            {
                o.Fill(RangeLimit(Descale(w[0], pass1Bits + 3), max, center, rangeMask));
                continue;
            }
            long z2 = w[2], z3 = w[6];
            long z1 = (z2 + z3) * Fix0_541196100;
            long tmp2 = z1 + z3 * -Fix1_847759065;
            long tmp3 = z1 + z2 * Fix0_765366865;
            long tmp0 = ((long)w[0] + w[4]) << ConstBits;
            long tmp1 = ((long)w[0] - w[4]) << ConstBits;
            long tmp10 = tmp0 + tmp3, tmp13 = tmp0 - tmp3, tmp11 = tmp1 + tmp2, tmp12 = tmp1 - tmp2;

            tmp0 = w[7];
            tmp1 = w[5];
            tmp2 = w[3];
            tmp3 = w[1];
            Odd(ref tmp0, ref tmp1, ref tmp2, ref tmp3);

            o[0] = RangeLimit(Descale(tmp10 + tmp3, outShift), max, center, rangeMask);
            o[7] = RangeLimit(Descale(tmp10 - tmp3, outShift), max, center, rangeMask);
            o[1] = RangeLimit(Descale(tmp11 + tmp2, outShift), max, center, rangeMask);
            o[6] = RangeLimit(Descale(tmp11 - tmp2, outShift), max, center, rangeMask);
            o[2] = RangeLimit(Descale(tmp12 + tmp1, outShift), max, center, rangeMask);
            o[5] = RangeLimit(Descale(tmp12 - tmp1, outShift), max, center, rangeMask);
            o[3] = RangeLimit(Descale(tmp13 + tmp0, outShift), max, center, rangeMask);
            o[4] = RangeLimit(Descale(tmp13 - tmp0, outShift), max, center, rangeMask);
        }
    }

    /// <summary>The odd part (figure 8 of Loeffler et al., as IJG): inputs y7, y5, y3, y1; outputs tmp0..tmp3.</summary>
    private static void Odd(ref long tmp0, ref long tmp1, ref long tmp2, ref long tmp3)
    {
        long z1 = tmp0 + tmp3, z2 = tmp1 + tmp2, z3 = tmp0 + tmp2, z4 = tmp1 + tmp3;
        long z5 = (z3 + z4) * Fix1_175875602;
        tmp0 *= Fix0_298631336;
        tmp1 *= Fix2_053119869;
        tmp2 *= Fix3_072711026;
        tmp3 *= Fix1_501321110;
        z1 *= -Fix0_899976223;
        z2 *= -Fix2_562915447;
        z3 *= -Fix1_961570560;
        z4 *= -Fix0_390180644;
        z3 += z5;
        z4 += z5;
        tmp0 += z1 + z3;
        tmp1 += z2 + z4;
        tmp2 += z2 + z3;
        tmp3 += z1 + z4;
    }

    /// <summary>
    /// IJG's post-IDCT range-limit table (jdmaster.c prepare_range_limit_table) as arithmetic: the
    /// value is masked to 4 x the sample range, read as signed around 0, shifted by the centre and
    /// clamped — so wildly out-of-range values wrap exactly as they do in libjpeg.
    /// </summary>
    private static int RangeLimit(long value, int max, int center, int rangeMask)
    {
        int x = (int)value & rangeMask;
        int range = max + 1;
        int signed = x < 2 * range ? x : x - 4 * range;
        return Math.Clamp(signed + center, 0, max);
    }
}
