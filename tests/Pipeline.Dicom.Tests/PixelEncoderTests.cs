namespace Pipeline.Dicom.Tests;

/// <summary>Modality values to stored words: rounding, clamping, rescale, signedness and high-bit placement, with
/// expected words written out by hand.</summary>
public sealed class PixelEncoderTests
{
    private static PixelDescription Row(int columns, int bitsAllocated, int bitsStored, int highBit, bool signed = false, double slope = 1, double intercept = 0) =>
        new()
        {
            Rows = 1, Columns = columns, BitsAllocated = bitsAllocated, BitsStored = bitsStored, HighBit = highBit, IsSigned = signed,
            RescaleSlope = slope, RescaleIntercept = intercept,
        };

    /// <summary>The values three times over: long enough for the encoder's vector path and its scalar tail.</summary>
    private static T[] Thrice<T>(T[] values) => [.. values, .. values, .. values];

    private static ushort[] Words16(byte[] bytes, int count) =>
        [.. Enumerable.Range(0, count).Select(i => (ushort)(bytes[2 * i] | bytes[2 * i + 1] << 8))];

    [Fact]
    public void Halves_round_away_from_zero_and_just_below_half_rounds_down()
    {
        var values = Thrice([0.5f, 1.5f, 2.5f, -0.5f, -2.5f, 0.49999997f, -0.49999997f, 3.4999998f, 7f]);
        var encoded = PixelEncoder.Encode([values], Row(values.Length, 16, 16, 15, signed: true));

        Assert.Equal(Thrice(new short[] { 1, 2, 3, -1, -3, 0, 0, 3, 7 }), Words16(encoded.Bytes, values.Length).Select(w => (short)w));
        Assert.Equal((-3, 7), (encoded.SmallestStored, encoded.LargestStored));
    }

    [Fact]
    public void Values_outside_the_stored_range_clamp_and_NaN_stores_zero()
    {
        var values = Thrice([-5f, 4096f, float.PositiveInfinity, float.NegativeInfinity, float.NaN, 4095.4f]);
        var encoded = PixelEncoder.Encode([values], Row(values.Length, 16, 12, 11));

        Assert.Equal(Thrice(new ushort[] { 0, 4095, 4095, 0, 0, 4095 }), Words16(encoded.Bytes, values.Length));
    }

    [Fact]
    public void Rescale_is_undone_before_rounding()
    {
        // stored = round((v - (-1024)) / 0.5): -1024 -> 0, -1023.75 -> 0.5 -> 1, -1000 -> 48, -1024.2 -> -0.4 -> 0 (clamped, unsigned)
        var values = Thrice([-1024f, -1023.75f, -1000f, -1024.2f]);
        var encoded = PixelEncoder.Encode([values], Row(values.Length, 16, 16, 15, slope: 0.5, intercept: -1024));

        Assert.Equal(Thrice(new ushort[] { 0, 1, 48, 0 }), Words16(encoded.Bytes, values.Length));
    }

    [Fact]
    public void Signed_values_in_high_bits_are_shifted_and_masked()
    {
        // 12 bits stored at high bit 15 (shift 4): -1 -> 0xFFF << 4 = 0xFFF0, 5 -> 0x0050, -2048 -> 0x800 << 4 = 0x8000.
        var values = Thrice([-1f, 5f, -2048f]);
        var encoded = PixelEncoder.Encode([values], Row(values.Length, 16, 12, 15, signed: true));

        Assert.Equal(Thrice(new ushort[] { 0xFFF0, 0x0050, 0x8000 }), Words16(encoded.Bytes, values.Length));
    }

    [Fact]
    public void Eight_and_thirty_two_bit_words_and_odd_length_padding()
    {
        var eight = PixelEncoder.Encode([[1.5f, 255.6f, 300f]], Row(3, 8, 8, 7));
        Assert.Equal(new byte[] { 2, 255, 255, 0 }, eight.Bytes); // three bytes, padded to even length

        var wide = PixelEncoder.Encode([[-2.5f, 70000f]], Row(2, 32, 32, 31, signed: true));
        Assert.Equal(new byte[] { 0xFD, 0xFF, 0xFF, 0xFF, 0x70, 0x11, 0x01, 0x00 }, wide.Bytes); // -3, 70000 = 0x00011170
    }

    [Fact]
    public void Any_rescale_gives_the_rounding_of_the_definition_on_many_values()
    {
        // More values than one conversion chunk, with a slope whose quotients are rarely exact.
        var random = new Random(7);
        var values = Enumerable.Range(0, 1500).Select(_ => (float)(random.NextDouble() * 3000 - 200)).ToArray();
        var encoded = PixelEncoder.Encode([values], Row(values.Length, 16, 16, 15, signed: true, slope: 0.37, intercept: -12.3));

        var expected = values.Select(v => (short)Math.Clamp(Math.Round((v - -12.3) / 0.37, MidpointRounding.AwayFromZero), short.MinValue, short.MaxValue));
        Assert.Equal(expected, Words16(encoded.Bytes, values.Length).Select(w => (short)w));
    }

    [Fact]
    public void Frames_are_concatenated_in_order()
    {
        var d = Row(2, 16, 16, 15) with { Frames = 2 };
        var encoded = PixelEncoder.Encode([[1f, 2f], [3f, 4f]], d);

        Assert.Equal(new ushort[] { 1, 2, 3, 4 }, Words16(encoded.Bytes, 4));
    }
}
