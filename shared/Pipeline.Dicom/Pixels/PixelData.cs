using System.Buffers;
using System.Buffers.Binary;
using Pipeline.Dicom.Codecs;

namespace Pipeline.Dicom;

/// <summary>
/// The pixel data of one instance: frames decoded on demand to native little-endian bytes
/// (as Explicit VR Little Endian holds them), to stored values or to modality values (rescaled).
/// </summary>
public sealed class PixelData
{
    private readonly ReadOnlyMemory<byte> _native;
    private readonly DicomFragments? _fragments;
    private readonly IFrameDecoder? _decoder;
    private readonly PixelDescription _encoded;
    private readonly ReadOnlyMemory<byte> _extendedOffsetTable;
    private int[][]? _frameFragments;

    private PixelData(PixelDescription description, TransferSyntax syntax, ReadOnlyMemory<byte> native, DicomFragments? fragments, IFrameDecoder? decoder,
        ReadOnlyMemory<byte> extendedOffsetTable = default)
    {
        _extendedOffsetTable = extendedOffsetTable;
        _encoded = description;
        Description = DecodedDescription(description, syntax);
        TransferSyntax = syntax;
        _native = native;
        _fragments = fragments;
        _decoder = decoder;
    }

    /// <summary>Largest decoded/compressed size ratio accepted (RLE tops out at 64, JPEG runs of zero blocks near 256).</summary>
    public const int MaxExpansion = 1024;

    /// <summary>Describes the bytes <see cref="GetFrameBytes"/> returns (after any colour conversion of the decoder).</summary>
    public PixelDescription Description { get; }
    public TransferSyntax TransferSyntax { get; }
    public int FrameCount => Description.Frames;

    public static PixelData FromDataset(Dataset ds, TransferSyntax ts)
    {
        if (ds[DicomTags.PixelData] is not { } element)
        {
            if (ds.Contains(DicomTags.FloatPixelData) || ds.Contains(DicomTags.DoubleFloatPixelData))
                throw new DicomPixelDataException("Float Pixel Data (7FE0,0008) / Double Float Pixel Data (7FE0,0009) is not supported");
            throw new DicomPixelDataException("no Pixel Data (7FE0,0010)");
        }
        var d = PixelDescription.FromDataset(ds);
        switch (element)
        {
            case DicomValueElement v:
                long needed = d.PixelDataBytes;
                if (v.Value.Length < needed)
                    throw new DicomPixelDataException(
                        $"Pixel Data holds {v.Value.Length} bytes but {d.Rows}x{d.Columns}x{d.SamplesPerPixel} samples x {d.Frames} frames x {d.BitsAllocated} bits need {needed}");
                return new PixelData(d, ts, v.Value, null, null);
            case DicomFragments f:
                if (!ts.Encapsulated)
                    throw new DicomPixelDataException($"encapsulated Pixel Data in non-encapsulated transfer syntax {ts}");
                d.RequireByteAligned(ts);
                var decoder = FrameDecoders.For(ts);
                // Frames never share fragments; and no codec here expands data more than
                // MaxExpansion-fold, so a tiny file cannot make us allocate gigabytes.
                if (d.Frames > f.Fragments.Count)
                    throw new DicomPixelDataException($"{d.Frames} frames claimed but only {f.Fragments.Count} fragments present");
                long compressed = f.Fragments.Sum(x => (long)x.Length);
                if (d.FrameBytes * d.Frames > Math.Max(1 << 20, compressed * MaxExpansion))
                    throw new DicomPixelDataException(
                        $"{d.Frames} frames of {d.Rows}x{d.Columns}x{d.SamplesPerPixel}x{d.BitsAllocated} bits cannot come from {compressed} compressed bytes");
                var extended = ds[DicomTags.ExtendedOffsetTable] is DicomValueElement eot ? eot.Value : default;
                return new PixelData(d, ts, default, f, decoder, extended);
            default:
                throw new DicomPixelDataException("Pixel Data (7FE0,0010) is a sequence");
        }
    }

    /// <summary>
    /// Lossy JPEG in a YBR photometric interpretation decodes to RGB (as dcmdjpeg does by default);
    /// every other encoding decodes to the photometric interpretation the dataset states.
    /// </summary>
    private static PixelDescription DecodedDescription(PixelDescription d, TransferSyntax ts) =>
        ts.Pixels == PixelEncoding.JpegBaseline && JpegDctDecoder.ConvertsToRgb(d)
            ? d with { Photometric = "RGB" }
            : d;

    /// <summary>Native little-endian bytes of one frame (decoded if compressed; a packed 1-bit frame shifted to start at bit 0).</summary>
    public ReadOnlyMemory<byte> GetFrameBytes(int frame)
    {
        CheckFrame(frame);
        int size = (int)Description.FrameBytes;
        long startBit = (long)frame * Description.SamplesPerFrame * Description.BitsAllocated;
        if (_fragments is null && startBit % 8 == 0) return _native.Slice((int)(startBit / 8), size);
        var output = new byte[size];
        if (_fragments is null) ShiftedBits(_native.Span[(int)(startBit / 8)..], (int)(startBit % 8), output);
        else DecodeFrame(frame, output);
        return output;
    }

    /// <summary>The bits of <paramref name="source"/> from bit <paramref name="shift"/> on (1 &lt;= shift &lt;= 7), as whole bytes.</summary>
    private static void ShiftedBits(ReadOnlySpan<byte> source, int shift, Span<byte> destination)
    {
        for (int i = 0; i < destination.Length; i++)
            destination[i] = (byte)((source[i] >> shift) | (i + 1 < source.Length ? source[i + 1] << (8 - shift) : 0));
    }

    private void CheckFrame(int frame)
    {
        if ((uint)frame >= (uint)FrameCount)
            throw new ArgumentOutOfRangeException(nameof(frame), $"frame {frame} of {FrameCount}");
    }

    /// <summary>Decodes a compressed frame into <paramref name="output"/> (every byte written, so it may be a reused buffer).</summary>
    private void DecodeFrame(int frame, Span<byte> output)
    {
        var data = FrameCodestream(frame);
        try
        {
            _decoder!.Decode(data.Span, _encoded, output);
        }
        catch (Exception e) when (e is not DicomException and (IndexOutOfRangeException or ArgumentException or InvalidOperationException or InvalidDataException))
        {
            throw new DicomPixelDataException($"frame {frame}: corrupt {TransferSyntax.Name} data ({e.Message})", e);
        }
    }

    /// <summary>All frames as the (7FE0,0010) value of a native encoding: concatenated, padded to even length.</summary>
    public byte[] ToNativeBytes()
    {
        long total = Description.PixelDataBytes;
        if (total > Array.MaxLength - 1) throw new DicomPixelDataException($"pixel data of {total} bytes is larger than one array");
        var all = new byte[total + (total & 1)];
        if (_fragments is null)
        {
            _native.Span[..(int)total].CopyTo(all);
            return all;
        }
        for (int i = 0; i < FrameCount; i++)
            DecodeFrame(i, all.AsSpan((int)(i * Description.FrameBytes), (int)Description.FrameBytes));
        return all;
    }

    /// <summary>Stored values (masked to Bits Stored, sign-extended), samples interleaved.</summary>
    public int[] GetStoredValues(int frame)
    {
        var d = Description;
        if (d.BitsStored == 32 && !d.IsSigned)
            throw new DicomPixelDataException("unsigned 32-bit stored values do not fit int; use GetFrame");
        var result = new int[d.SamplesPerFrame];
        var bytes = GetFrameBytes(frame).Span;
        for (int i = 0; i < result.Length; i++) result[i] = (int)Stored(bytes, SourceIndex(i));
        return result;
    }

    /// <summary>Modality values (stored x slope + intercept) of one frame, samples interleaved.</summary>
    public float[] GetFrame(int frame)
    {
        var result = new float[Description.SamplesPerFrame];
        GetFrame(frame, result);
        return result;
    }

    public void GetFrame(int frame, Span<float> destination)
    {
        var d = Description;
        if (destination.Length < d.SamplesPerFrame)
            throw new ArgumentException($"destination holds {destination.Length} values, frame has {d.SamplesPerFrame}", nameof(destination));
        if (_fragments is null)
        {
            ToModalityValues(GetFrameBytes(frame).Span, destination);
            return;
        }
        // A worker decodes frame after frame: reuse the decoded bytes' buffer instead of a new large array each time.
        CheckFrame(frame);
        int size = (int)d.FrameBytes;
        var rented = ArrayPool<byte>.Shared.Rent(size);
        try
        {
            DecodeFrame(frame, rented.AsSpan(0, size));
            ToModalityValues(rented.AsSpan(0, size), destination);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    private void ToModalityValues(ReadOnlySpan<byte> bytes, Span<float> destination)
    {
        var d = Description;
        float slope = (float)d.RescaleSlope, intercept = (float)d.RescaleIntercept;
        int n = d.SamplesPerFrame;
        if (d.BitsAllocated == 16 && d.SamplesPerPixel == 1 && d.BitsStored == 16)
        {
            // Fast path for the common full-range 16-bit case.
            // Values are little endian; reinterpret directly on little-endian hosts.
            if (BitConverter.IsLittleEndian && d.IsSigned)
            {
                var words = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, short>(bytes[..(2 * n)]);
                for (int i = 0; i < words.Length; i++) destination[i] = words[i] * slope + intercept;
            }
            else if (BitConverter.IsLittleEndian)
            {
                var words = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, ushort>(bytes[..(2 * n)]);
                for (int i = 0; i < words.Length; i++) destination[i] = words[i] * slope + intercept;
            }
            else
            {
                for (int i = 0; i < n; i++)
                    destination[i] = (d.IsSigned ? BinaryPrimitives.ReadInt16LittleEndian(bytes[(2 * i)..]) : BinaryPrimitives.ReadUInt16LittleEndian(bytes[(2 * i)..])) * slope + intercept;
            }
            return;
        }
        for (int i = 0; i < n; i++) destination[i] = (float)(Stored(bytes, SourceIndex(i)) * d.RescaleSlope + d.RescaleIntercept);
    }

    /// <summary>Index of interleaved sample i in the frame's byte layout (planar configuration 1 stores planes).</summary>
    private int SourceIndex(int i)
    {
        var d = Description;
        if (d.SamplesPerPixel == 1 || d.PlanarConfiguration == 0) return i;
        int pixel = i / d.SamplesPerPixel, sample = i % d.SamplesPerPixel;
        return sample * d.PixelsPerFrame + pixel;
    }

    private long Stored(ReadOnlySpan<byte> bytes, int index)
    {
        var d = Description;
        ulong raw = d.BitsAllocated switch
        {
            1 => (ulong)(bytes[index >> 3] >> (index & 7)) & 1,
            8 => bytes[index],
            16 => BinaryPrimitives.ReadUInt16LittleEndian(bytes[(2 * index)..]),
            _ => BinaryPrimitives.ReadUInt32LittleEndian(bytes[(4 * index)..]),
        };
        int shift = d.HighBit + 1 - d.BitsStored;
        ulong mask = (1UL << d.BitsStored) - 1;
        ulong v = (raw >> shift) & mask;
        if (d.IsSigned && (v & (1UL << (d.BitsStored - 1))) != 0) return (long)v - (1L << d.BitsStored);
        return (long)v;
    }

    /// <summary>The bytes of frame <paramref name="frame"/>'s codestream (its fragments joined).</summary>
    private ReadOnlyMemory<byte> FrameCodestream(int frame)
    {
        _frameFragments ??= FragmentMap.Build(_fragments!, FrameCount, TransferSyntax, _extendedOffsetTable.Span);
        var indices = _frameFragments[frame];
        if (indices.Length == 1) return _fragments!.Fragments[indices[0]];
        var joined = new byte[indices.Sum(i => (long)_fragments!.Fragments[i].Length)];
        int at = 0;
        foreach (var i in indices)
        {
            _fragments!.Fragments[i].Span.CopyTo(joined.AsSpan(at));
            at += _fragments.Fragments[i].Length;
        }
        return joined;
    }
}
