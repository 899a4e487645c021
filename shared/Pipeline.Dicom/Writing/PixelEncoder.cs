using System.Buffers.Binary;
using System.Runtime.Intrinsics;

namespace Pipeline.Dicom;

/// <summary>Native pixel bytes plus the smallest and largest stored value they hold.</summary>
public sealed record EncodedPixels(byte[] Bytes, long SmallestStored, long LargestStored);

/// <summary>Turns modality values back into stored values of a given bit depth and signedness.</summary>
public static class PixelEncoder
{
    private const int Chunk = 512; // stored values converted at a time, on the stack

    /// <summary>
    /// stored = round((value - intercept) / slope), clamped to what Bits Stored and Pixel Representation
    /// allow; frames are concatenated and padded to even length (the (7FE0,0010) value).
    /// </summary>
    public static EncodedPixels Encode(IReadOnlyList<float[]> frames, PixelDescription d)
    {
        if (d.SamplesPerPixel != 1) throw new DicomPixelDataException("only one sample per pixel can be encoded");
        if (frames.Count != d.Frames) throw new DicomPixelDataException($"{frames.Count} frames given, description says {d.Frames}");
        long total = d.FrameBytes * d.Frames;
        var bytes = new byte[total + (total & 1)];
        var rescale = new Rescale(d);
        long smallest = long.MaxValue, largest = long.MinValue;
        int shift = d.HighBit + 1 - d.BitsStored;
        long mask = (1L << d.BitsStored) - 1;
        int n = d.SamplesPerFrame;
        Span<long> stored = stackalloc long[Chunk];
        for (int f = 0; f < frames.Count; f++)
        {
            var values = frames[f];
            if (values.Length != n) throw new DicomPixelDataException($"frame {f} holds {values.Length} values, {n} expected");
            var frame = bytes.AsSpan((int)(f * d.FrameBytes), (int)d.FrameBytes);
            for (int start = 0; start < n; start += Chunk)
            {
                var count = Math.Min(Chunk, n - start);
                var chunk = stored[..count];
                rescale.ToStored(values.AsSpan(start, count), chunk);
                var dest = frame.Slice(start * d.BytesPerSample, count * d.BytesPerSample);
                foreach (var s in chunk)
                {
                    smallest = Math.Min(smallest, s);
                    largest = Math.Max(largest, s);
                }
                // Two's complement in the full word when the value sits in the low bits; shifted otherwise. One loop per
                // word size: the switch stays out of the per-pixel path.
                switch (d.BitsAllocated)
                {
                    case 8:
                        for (int i = 0; i < count; i++) dest[i] = (byte)Word(chunk[i], shift, mask);
                        break;
                    case 16:
                        for (int i = 0; i < count; i++) BinaryPrimitives.WriteUInt16LittleEndian(dest[(2 * i)..], (ushort)Word(chunk[i], shift, mask));
                        break;
                    default:
                        for (int i = 0; i < count; i++) BinaryPrimitives.WriteUInt32LittleEndian(dest[(4 * i)..], (uint)Word(chunk[i], shift, mask));
                        break;
                }
            }
        }
        return new EncodedPixels(bytes, smallest, largest);
    }

    private static long Word(long stored, int shift, long mask) => shift == 0 ? stored : (stored & mask) << shift;

    /// <summary>Sets Pixel Data and the Image Pixel module attributes for encoded monochrome pixels.</summary>
    internal static void Apply(Dataset ds, PixelDescription d, EncodedPixels pixels)
    {
        ds.SetNumber(DicomTags.SamplesPerPixel, 1);
        ds.SetString(DicomTags.PhotometricInterpretation, d.Photometric);
        ds.SetNumber(DicomTags.Rows, d.Rows);
        ds.SetNumber(DicomTags.Columns, d.Columns);
        ds.SetNumber(DicomTags.BitsAllocated, d.BitsAllocated);
        ds.SetNumber(DicomTags.BitsStored, d.BitsStored);
        ds.SetNumber(DicomTags.HighBit, d.HighBit);
        ds.SetNumber(DicomTags.PixelRepresentation, d.IsSigned ? 1 : 0);
        ds.Remove(DicomTags.PlanarConfiguration);
        if (d.Frames > 1) ds.SetNumber(DicomTags.NumberOfFrames, d.Frames);
        else ds.Remove(DicomTags.NumberOfFrames);
        var vr = d.IsSigned ? DicomVR.SS : DicomVR.US;
        if (d.BitsAllocated <= 16)
        {
            ds.SetNumber(DicomTags.SmallestImagePixelValue, pixels.SmallestStored, vr);
            ds.SetNumber(DicomTags.LargestImagePixelValue, pixels.LargestStored, vr);
        }
        else
        {
            ds.Remove(DicomTags.SmallestImagePixelValue);
            ds.Remove(DicomTags.LargestImagePixelValue);
        }
        ds.SetBytes(DicomTags.PixelData, d.BitsAllocated == 8 ? DicomVR.OB : DicomVR.OW, pixels.Bytes);
    }

    /// <summary>
    /// Modality values to stored values: round((value - intercept) / slope) half away from zero, clamped to the stored
    /// range; NaN stores 0. The worker encodes every slice it denoises, so the bulk runs four doubles at a time; the
    /// vector path gives exactly the scalar definition's values (same double operations, ties detected exactly).
    /// </summary>
    private readonly struct Rescale(PixelDescription d)
    {
        private readonly double _slope = d.RescaleSlope, _intercept = d.RescaleIntercept;
        private readonly long _min = d.StoredRange.Min, _max = d.StoredRange.Max;

        public void ToStored(ReadOnlySpan<float> values, Span<long> stored)
        {
            int i = 0;
            if (Vector256.IsHardwareAccelerated)
            {
                var (intercept, slope) = (Vector256.Create(_intercept), Vector256.Create(_slope));
                var (min, max, half) = (Vector256.Create((double)_min), Vector256.Create((double)_max), Vector256.Create(0.5));
                for (; i + Vector256<float>.Count <= values.Length; i += Vector256<float>.Count)
                {
                    var eight = Vector256.Create(values.Slice(i, Vector256<float>.Count));
                    var (lower, upper) = Vector256.Widen(eight);
                    Store(lower).CopyTo(stored[i..]);
                    Store(upper).CopyTo(stored[(i + Vector256<double>.Count)..]);
                }

                Vector256<long> Store(Vector256<double> value)
                {
                    var q = (value - intercept) / slope;
                    // Round to even differs from half away from zero only on exact ties; q - round(q) is exact.
                    var rounded = Vector256.Round(q);
                    rounded = Vector256.ConditionalSelect(Vector256.Equals(Vector256.Abs(q - rounded), half), q + Vector256.CopySign(half, q), rounded);
                    var clamped = Vector256.MinNative(Vector256.MaxNative(rounded, min), max);
                    return Vector256.ConvertToInt64(Vector256.ConditionalSelect(Vector256.Equals(q, q), clamped, Vector256<double>.Zero));
                }
            }
            for (; i < values.Length; i++)
            {
                double v = values[i];
                stored[i] = double.IsNaN(v) ? 0 : (long)Math.Clamp(Math.Round((v - _intercept) / _slope, MidpointRounding.AwayFromZero), _min, _max);
            }
        }
    }
}
