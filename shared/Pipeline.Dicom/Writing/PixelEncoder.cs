using System.Buffers.Binary;

namespace Pipeline.Dicom;

/// <summary>Native pixel bytes plus the smallest and largest stored value they hold.</summary>
public sealed record EncodedPixels(byte[] Bytes, long SmallestStored, long LargestStored);

/// <summary>Turns modality values back into stored values of a given bit depth and signedness.</summary>
public static class PixelEncoder
{
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
        var (min, max) = d.StoredRange;
        long smallest = long.MaxValue, largest = long.MinValue;
        int shift = d.HighBit + 1 - d.BitsStored;
        double slope = d.RescaleSlope, intercept = d.RescaleIntercept;
        int n = d.SamplesPerFrame;
        for (int f = 0; f < frames.Count; f++)
        {
            var values = frames[f];
            if (values.Length != n) throw new DicomPixelDataException($"frame {f} holds {values.Length} values, {n} expected");
            var dest = bytes.AsSpan((int)(f * d.FrameBytes));
            for (int i = 0; i < n; i++)
            {
                double v = values[i];
                long s = double.IsNaN(v) ? 0 : (long)Math.Clamp(Math.Round((v - intercept) / slope, MidpointRounding.AwayFromZero), min, max);
                if (s < smallest) smallest = s;
                if (s > largest) largest = s;
                // Two's complement in the full word when the value sits in the low bits; shifted otherwise.
                long word = shift == 0 ? s : (s & ((1L << d.BitsStored) - 1)) << shift;
                switch (d.BitsAllocated)
                {
                    case 8: dest[i] = (byte)word; break;
                    case 16: BinaryPrimitives.WriteUInt16LittleEndian(dest[(2 * i)..], (ushort)word); break;
                    default: BinaryPrimitives.WriteUInt32LittleEndian(dest[(4 * i)..], (uint)word); break;
                }
            }
        }
        return new EncodedPixels(bytes, smallest, largest);
    }

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
}
