using System.Buffers.Binary;

namespace Pipeline.Dicom.Codecs;

/// <summary>
/// RLE Lossless (PS3.5 Annex G): a 64-byte header of segment offsets, then one PackBits segment per
/// byte plane (most significant byte of each sample first), each row encoded separately.
/// </summary>
internal sealed class RleCodec : IFrameDecoder
{
    public static readonly RleCodec Instance = new();

    public void Decode(ReadOnlySpan<byte> data, PixelDescription d, Span<byte> destination)
    {
        if (data.Length < 64) throw new DicomPixelDataException($"RLE frame of {data.Length} bytes has no 64-byte header");
        int segments = (int)BinaryPrimitives.ReadUInt32LittleEndian(data);
        int bytesPerSample = d.BytesPerSample;
        int expected = bytesPerSample * d.SamplesPerPixel;
        if (segments != expected)
            throw new DicomPixelDataException($"RLE header declares {segments} segments, {expected} expected for {d.BitsAllocated}-bit x {d.SamplesPerPixel} samples");
        int pixels = d.PixelsPerFrame;
        var plane = new byte[pixels];
        for (int seg = 0; seg < segments; seg++)
        {
            int start = (int)BinaryPrimitives.ReadUInt32LittleEndian(data[(4 + 4 * seg)..]);
            int end = seg + 1 < segments ? (int)BinaryPrimitives.ReadUInt32LittleEndian(data[(8 + 4 * seg)..]) : data.Length;
            if (start < 64 || start > data.Length || end < start || end > data.Length)
                throw new DicomPixelDataException($"RLE segment {seg} bounds [{start}, {end}) outside the {data.Length}-byte frame");
            int produced = UnpackBits(data[start..end], plane);
            if (produced < pixels)
                throw new DicomPixelDataException($"RLE segment {seg} decodes to {produced} bytes, {pixels} expected");
            int sample = seg / bytesPerSample;
            int byteInSample = bytesPerSample - 1 - seg % bytesPerSample; // segment 0 holds the most significant byte
            if (d.PlanarConfiguration == 0)
            {
                int stride = d.SamplesPerPixel * bytesPerSample;
                int at = sample * bytesPerSample + byteInSample;
                for (int i = 0; i < pixels; i++, at += stride) destination[at] = plane[i];
            }
            else
            {
                int at = sample * pixels * bytesPerSample + byteInSample;
                for (int i = 0; i < pixels; i++, at += bytesPerSample) destination[at] = plane[i];
            }
        }
    }

    /// <summary>PackBits decoding into <paramref name="output"/>; stops when full. Returns bytes produced.</summary>
    private static int UnpackBits(ReadOnlySpan<byte> input, Span<byte> output)
    {
        int i = 0, o = 0;
        while (i < input.Length && o < output.Length)
        {
            int n = (sbyte)input[i++];
            if (n >= 0)
            {
                int count = Math.Min(n + 1, Math.Min(input.Length - i, output.Length - o));
                input.Slice(i, count).CopyTo(output[o..]);
                i += n + 1;
                o += count;
            }
            else if (n != -128)
            {
                if (i >= input.Length) break;
                int count = Math.Min(1 - n, output.Length - o);
                output.Slice(o, count).Fill(input[i++]);
                o += count;
            }
        }
        return o;
    }

    /// <summary>Encodes one native frame (layout per the description's planar configuration).</summary>
    public static byte[] Encode(ReadOnlySpan<byte> frame, PixelDescription d)
    {
        int bytesPerSample = d.BytesPerSample;
        int segments = bytesPerSample * d.SamplesPerPixel;
        int pixels = d.PixelsPerFrame;
        var output = new MemoryStream(64 + frame.Length / 2);
        output.Write(new byte[64]);
        var header = new byte[64];
        BinaryPrimitives.WriteUInt32LittleEndian(header, (uint)segments);
        var plane = new byte[pixels];
        var packed = new byte[d.Columns * 2 + 2];
        for (int seg = 0; seg < segments; seg++)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(4 + 4 * seg), (uint)output.Length);
            int sample = seg / bytesPerSample;
            int byteInSample = bytesPerSample - 1 - seg % bytesPerSample;
            int stride = d.PlanarConfiguration == 0 ? d.SamplesPerPixel * bytesPerSample : bytesPerSample;
            int at = d.PlanarConfiguration == 0 ? sample * bytesPerSample + byteInSample : sample * pixels * bytesPerSample + byteInSample;
            for (int i = 0; i < pixels; i++, at += stride) plane[i] = frame[at];
            for (int row = 0; row < d.Rows; row++)
            {
                int n = PackBits(plane.AsSpan(row * d.Columns, d.Columns), packed);
                output.Write(packed, 0, n);
            }
            if ((output.Length & 1) == 1) output.WriteByte(0);
        }
        var result = output.ToArray();
        header.CopyTo(result, 0);
        return result;
    }

    /// <summary>PackBits: runs of 3+ equal bytes become replicate runs, the rest literal runs (max 128).</summary>
    private static int PackBits(ReadOnlySpan<byte> row, Span<byte> output)
    {
        int i = 0, o = 0;
        while (i < row.Length)
        {
            int run = 1;
            while (i + run < row.Length && run < 128 && row[i + run] == row[i]) run++;
            if (run >= 3)
            {
                output[o++] = (byte)(sbyte)(1 - run);
                output[o++] = row[i];
                i += run;
                continue;
            }
            int start = i, literal = 0;
            while (i < row.Length && literal < 128)
            {
                if (i + 2 < row.Length && row[i] == row[i + 1] && row[i] == row[i + 2]) break;
                i++;
                literal++;
            }
            output[o++] = (byte)(literal - 1);
            row.Slice(start, literal).CopyTo(output[o..]);
            o += literal;
        }
        return o;
    }
}
