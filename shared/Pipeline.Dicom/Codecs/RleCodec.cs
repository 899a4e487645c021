using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

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
        // 8-bit grey decodes straight into the destination; otherwise each byte plane goes to a scratch
        // buffer first and is then interleaved (16-bit grey with vector instructions).
        bool direct = segments == 1;
        var rented = direct ? null : ArrayPool<byte>.Shared.Rent(segments * pixels);
        try
        {
            var planes = direct ? destination[..pixels] : rented.AsSpan(0, segments * pixels);
            for (int seg = 0; seg < segments; seg++)
            {
                int start = (int)BinaryPrimitives.ReadUInt32LittleEndian(data[(4 + 4 * seg)..]);
                int end = seg + 1 < segments ? (int)BinaryPrimitives.ReadUInt32LittleEndian(data[(8 + 4 * seg)..]) : data.Length;
                if (start < 64 || start > data.Length || end < start || end > data.Length)
                    throw new DicomPixelDataException($"RLE segment {seg} bounds [{start}, {end}) outside the {data.Length}-byte frame");
                int produced = UnpackBits(data[start..end], planes.Slice(seg * pixels, pixels));
                if (produced < pixels)
                    throw new DicomPixelDataException($"RLE segment {seg} decodes to {produced} bytes, {pixels} expected");
            }
            if (direct) return;
            if (segments == 2 && d.SamplesPerPixel == 1) JoinBytes(planes[..pixels], planes[pixels..], destination);
            else Interleave(planes, d, destination);
        }
        finally
        {
            if (rented is not null) ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>16-bit samples, little endian, from a plane of high bytes and one of low bytes.</summary>
    private static void JoinBytes(ReadOnlySpan<byte> high, ReadOnlySpan<byte> low, Span<byte> destination)
    {
        var words = MemoryMarshal.Cast<byte, ushort>(destination[..(2 * high.Length)]);
        int i = 0;
        if (Vector128.IsHardwareAccelerated)
        {
            for (; i + Vector128<byte>.Count <= high.Length; i += Vector128<byte>.Count)
            {
                var h = Vector128.Create(high.Slice(i, Vector128<byte>.Count));
                var l = Vector128.Create(low.Slice(i, Vector128<byte>.Count));
                var (hLower, hUpper) = Vector128.Widen(h);
                var (lLower, lUpper) = Vector128.Widen(l);
                ((hLower << 8) | lLower).CopyTo(words[i..]);
                ((hUpper << 8) | lUpper).CopyTo(words[(i + Vector128<ushort>.Count)..]);
            }
        }
        for (; i < high.Length; i++) words[i] = (ushort)(high[i] << 8 | low[i]);
        if (!BitConverter.IsLittleEndian)
            for (int k = 0; k < words.Length; k++) words[k] = BinaryPrimitives.ReverseEndianness(words[k]);
    }

    /// <summary>Any layout: segment s holds byte (s mod bytesPerSample) of sample (s / bytesPerSample), most significant first.</summary>
    private static void Interleave(ReadOnlySpan<byte> planes, PixelDescription d, Span<byte> destination)
    {
        int pixels = d.PixelsPerFrame, bytesPerSample = d.BytesPerSample;
        for (int seg = 0; seg < bytesPerSample * d.SamplesPerPixel; seg++)
        {
            var plane = planes.Slice(seg * pixels, pixels);
            int sample = seg / bytesPerSample;
            int byteInSample = bytesPerSample - 1 - seg % bytesPerSample;
            int stride = d.PlanarConfiguration == 0 ? d.SamplesPerPixel * bytesPerSample : bytesPerSample;
            int at = d.PlanarConfiguration == 0 ? sample * bytesPerSample + byteInSample : sample * pixels * bytesPerSample + byteInSample;
            for (int i = 0; i < pixels; i++, at += stride) destination[at] = plane[i];
        }
    }

    /// <summary>PackBits decoding into <paramref name="output"/>; stops when full. Returns bytes produced.</summary>
    private static int UnpackBits(ReadOnlySpan<byte> input, Span<byte> output)
    {
        ref byte src = ref MemoryMarshal.GetReference(input);
        ref byte dst = ref MemoryMarshal.GetReference(output);
        int i = 0, o = 0, inLength = input.Length, outLength = output.Length;
        while (i < inLength && o < outLength)
        {
            int n = (sbyte)Unsafe.Add(ref src, i++);
            if (n >= 0)
            {
                // Literal run of n + 1 bytes (cut short at either end).
                int count = Math.Min(n + 1, Math.Min(inLength - i, outLength - o));
                Unsafe.CopyBlockUnaligned(ref Unsafe.Add(ref dst, o), ref Unsafe.Add(ref src, i), (uint)count);
                i += n + 1;
                o += count;
            }
            else if (n != -128)
            {
                // Replicate run: the next byte 1 - n times.
                if (i >= inLength) break;
                int count = Math.Min(1 - n, outLength - o);
                Unsafe.InitBlockUnaligned(ref Unsafe.Add(ref dst, o), Unsafe.Add(ref src, i++), (uint)count);
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
