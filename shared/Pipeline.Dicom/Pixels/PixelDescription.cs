namespace Pipeline.Dicom;

/// <summary>The Image Pixel module attributes that say how to turn pixel bytes into numbers.</summary>
public sealed record PixelDescription
{
    public required int Rows { get; init; }
    public required int Columns { get; init; }
    public int Frames { get; init; } = 1;
    public int SamplesPerPixel { get; init; } = 1;
    public required int BitsAllocated { get; init; }
    public required int BitsStored { get; init; }
    public required int HighBit { get; init; }
    /// <summary>Pixel Representation 1: two's complement samples.</summary>
    public bool IsSigned { get; init; }
    /// <summary>0: samples interleaved (RGBRGB), 1: one plane per sample (RR..GG..BB..).</summary>
    public int PlanarConfiguration { get; init; }
    public string Photometric { get; init; } = "MONOCHROME2";
    public double RescaleSlope { get; init; } = 1;
    public double RescaleIntercept { get; init; }

    public int PixelsPerFrame => Rows * Columns;
    public int SamplesPerFrame => Rows * Columns * SamplesPerPixel;
    /// <summary>Bytes per sample of a byte-aligned layout (8, 16 or 32 bits allocated); 0 for 1-bit pixels, which are packed.</summary>
    public int BytesPerSample => BitsAllocated / 8;
    /// <summary>
    /// Bits Allocated 1: eight pixels per byte, the first in the least significant bit, and frames follow one another bit
    /// after bit, so a frame may start mid-byte (PS3.5 8.1.1).
    /// </summary>
    public bool IsBitPacked => BitsAllocated == 1;
    /// <summary>Bytes of one frame on its own (a packed frame's bits shifted to start at the first byte).</summary>
    public long FrameBytes => ((long)Rows * Columns * SamplesPerPixel * BitsAllocated + 7) / 8;
    /// <summary>Bytes of all frames in a native encoding: the (7FE0,0010) value before its padding to even length.</summary>
    public long PixelDataBytes => (long)(((Int128)Rows * Columns * SamplesPerPixel * BitsAllocated * Frames + 7) / 8);
    public bool IsMonochrome => IsGrey(Photometric);
    /// <summary>MONOCHROME1: low values display bright (inverted grey scale).</summary>
    public bool IsInverted => Photometric == "MONOCHROME1";
    /// <summary>Why the denoiser cannot take these pixels (it takes one grey sample per pixel), or null.</summary>
    public string? NotDenoisableReason => NotDenoisable(BitsAllocated, SamplesPerPixel, Photometric);

    /// <summary>
    /// Largest magnitude a modality value (stored x slope + intercept) may reach: half the 32-bit float range. Modality
    /// values are held as floats, and the margin keeps the float slope's rounding and the difference of two values (a
    /// window width) finite too. The standard bounds Rescale Slope and Intercept only by their DS text ("1e308" is valid).
    /// </summary>
    public const double MaxModalityMagnitude = float.MaxValue / 2.0;

    /// <summary>Smallest and largest stored value that Bits Stored and Pixel Representation allow.</summary>
    public (long Min, long Max) StoredRange => IsSigned
        ? (-(1L << (BitsStored - 1)), (1L << (BitsStored - 1)) - 1)
        : (0, (1L << BitsStored) - 1);

    /// <summary>
    /// Why an instance cannot be denoised, from its header alone (ingest decides before fetching pixels), or null: the
    /// rule decoding and deriving apply (<see cref="NotDenoisableReason"/>), after pixel data in a supported syntax.
    /// </summary>
    public static string? NotDenoisableReasonOf(DicomFile file)
    {
        ArgumentNullException.ThrowIfNull(file);
        var ds = file.Dataset;
        if (!ds.Contains(DicomTags.PixelData) && file.PixelDataLocation is null)
            return "no pixel data (not an image)";
        if (!file.TransferSyntax.IsSupported)
            return $"unsupported transfer syntax {file.TransferSyntax}";
        return NotDenoisable(ds.GetInt(DicomTags.BitsAllocated, 0), SamplesPerPixelOf(ds), PhotometricOf(ds));
    }

    private static string? NotDenoisable(int bitsAllocated, int samplesPerPixel, string photometric) =>
        bitsAllocated == 1 ? "binary image (Bits Allocated 1, as masks and segmentations carry): only grey-scale images are denoised"
        : samplesPerPixel != 1 ? $"colour image ({samplesPerPixel} samples per pixel, {photometric}): only single-channel images are denoised"
        : !IsGrey(photometric) ? $"{photometric} image: only grey-scale (MONOCHROME1 or MONOCHROME2) images are denoised"
        : null;

    private static bool IsGrey(string photometric) => photometric is "MONOCHROME1" or "MONOCHROME2";

    private static int SamplesPerPixelOf(Dataset ds) => ds.GetInt(DicomTags.SamplesPerPixel, 1);

    private static string PhotometricOf(Dataset ds) => ds.GetString(DicomTags.PhotometricInterpretation) ?? "MONOCHROME2";

    /// <summary>Reads and validates the module; throws <see cref="DicomPixelDataException"/> on nonsense.</summary>
    public static PixelDescription FromDataset(Dataset ds)
    {
        int Req(DicomTag tag) => ds.TryGetInt(tag, out var v) ? v : throw new DicomPixelDataException($"missing {tag} {tag.Keyword}");
        int bitsAllocated = Req(DicomTags.BitsAllocated);
        var d = new PixelDescription
        {
            Rows = Req(DicomTags.Rows),
            Columns = Req(DicomTags.Columns),
            Frames = ds.GetInt(DicomTags.NumberOfFrames, 1),
            SamplesPerPixel = SamplesPerPixelOf(ds),
            BitsAllocated = bitsAllocated,
            BitsStored = ds.GetInt(DicomTags.BitsStored, bitsAllocated),
            HighBit = ds.GetInt(DicomTags.HighBit, ds.GetInt(DicomTags.BitsStored, bitsAllocated) - 1),
            IsSigned = ds.GetInt(DicomTags.PixelRepresentation, 0) == 1,
            PlanarConfiguration = ds.GetInt(DicomTags.PlanarConfiguration, 0),
            Photometric = PhotometricOf(ds),
            RescaleSlope = ds.GetDouble(DicomTags.RescaleSlope, 1),
            RescaleIntercept = ds.GetDouble(DicomTags.RescaleIntercept, 0),
        };
        d.Validate();
        return d;
    }

    /// <summary>Our codecs (RLE, JPEG) take whole-byte samples: packed 1-bit pixels are read and written only natively.</summary>
    internal void RequireByteAligned(TransferSyntax syntax)
    {
        if (IsBitPacked)
            throw new DicomPixelDataException($"1-bit pixel data in {syntax.Name} is not supported (only in a native encoding)");
    }

    public void Validate()
    {
        if (Rows <= 0 || Columns <= 0 || Frames <= 0)
            throw new DicomPixelDataException($"image size {Rows}x{Columns}x{Frames} frames is not positive");
        if (BitsAllocated is not (1 or 8 or 16 or 32))
            throw new DicomPixelDataException($"Bits Allocated {BitsAllocated} is not supported (1, 8, 16 or 32)");
        if (BitsStored < 1 || BitsStored > BitsAllocated || HighBit < BitsStored - 1 || HighBit >= BitsAllocated)
            throw new DicomPixelDataException($"Bits Stored {BitsStored} / High Bit {HighBit} do not fit Bits Allocated {BitsAllocated}");
        if (SamplesPerPixel is not (1 or 3))
            throw new DicomPixelDataException($"Samples per Pixel {SamplesPerPixel} is not supported (1 or 3)");
        if (PlanarConfiguration is not (0 or 1))
            throw new DicomPixelDataException($"Planar Configuration {PlanarConfiguration} is not 0 or 1");
        if (!double.IsFinite(RescaleSlope) || RescaleSlope == 0 || !double.IsFinite(RescaleIntercept))
            throw new DicomPixelDataException($"Rescale Slope {RescaleSlope} / Intercept {RescaleIntercept} unusable");
        var (min, max) = StoredRange;
        if (Math.Abs(RescaleSlope) * Math.Max(-min, max) + Math.Abs(RescaleIntercept) > MaxModalityMagnitude)
            throw new DicomPixelDataException(
                $"Rescale Slope {RescaleSlope:R} / Intercept {RescaleIntercept:R} make the modality values of stored values {min}..{max} " +
                $"reach beyond ±{MaxModalityMagnitude:G3} (half the range of the 32-bit floats that hold them)");
        // A 1-bit frame decodes to one value per pixel: it counts as 8 bits here.
        if ((long)Rows * Columns * SamplesPerPixel * Math.Max(BitsAllocated, 8) / 8 > int.MaxValue)
            throw new DicomPixelDataException($"a {Rows}x{Columns} frame is larger than 2 GiB");
    }
}
