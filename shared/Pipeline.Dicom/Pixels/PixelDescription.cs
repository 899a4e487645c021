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
    public int BytesPerSample => BitsAllocated / 8;
    public long FrameBytes => (long)SamplesPerFrame * BytesPerSample;
    public bool IsMonochrome => Photometric is "MONOCHROME1" or "MONOCHROME2";
    /// <summary>MONOCHROME1: low values display bright (inverted grey scale).</summary>
    public bool IsInverted => Photometric == "MONOCHROME1";
    /// <summary>What the denoiser accepts: one grey sample per pixel.</summary>
    public bool IsDenoisable => SamplesPerPixel == 1 && IsMonochrome;

    /// <summary>Smallest and largest stored value that Bits Stored and Pixel Representation allow.</summary>
    public (long Min, long Max) StoredRange => IsSigned
        ? (-(1L << (BitsStored - 1)), (1L << (BitsStored - 1)) - 1)
        : (0, (1L << BitsStored) - 1);

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
            SamplesPerPixel = ds.GetInt(DicomTags.SamplesPerPixel, 1),
            BitsAllocated = bitsAllocated,
            BitsStored = ds.GetInt(DicomTags.BitsStored, bitsAllocated),
            HighBit = ds.GetInt(DicomTags.HighBit, ds.GetInt(DicomTags.BitsStored, bitsAllocated) - 1),
            IsSigned = ds.GetInt(DicomTags.PixelRepresentation, 0) == 1,
            PlanarConfiguration = ds.GetInt(DicomTags.PlanarConfiguration, 0),
            Photometric = ds.GetString(DicomTags.PhotometricInterpretation) ?? "MONOCHROME2",
            RescaleSlope = ds.GetDouble(DicomTags.RescaleSlope, 1),
            RescaleIntercept = ds.GetDouble(DicomTags.RescaleIntercept, 0),
        };
        d.Validate();
        return d;
    }

    public void Validate()
    {
        if (Rows <= 0 || Columns <= 0 || Frames <= 0)
            throw new DicomPixelDataException($"image size {Rows}x{Columns}x{Frames} frames is not positive");
        if (BitsAllocated is not (8 or 16 or 32))
            throw new DicomPixelDataException($"Bits Allocated {BitsAllocated} is not supported (8, 16 or 32)");
        if (BitsStored < 1 || BitsStored > BitsAllocated || HighBit < BitsStored - 1 || HighBit >= BitsAllocated)
            throw new DicomPixelDataException($"Bits Stored {BitsStored} / High Bit {HighBit} do not fit Bits Allocated {BitsAllocated}");
        if (SamplesPerPixel is not (1 or 3))
            throw new DicomPixelDataException($"Samples per Pixel {SamplesPerPixel} is not supported (1 or 3)");
        if (PlanarConfiguration is not (0 or 1))
            throw new DicomPixelDataException($"Planar Configuration {PlanarConfiguration} is not 0 or 1");
        if (!double.IsFinite(RescaleSlope) || RescaleSlope == 0 || !double.IsFinite(RescaleIntercept))
            throw new DicomPixelDataException($"Rescale Slope {RescaleSlope} / Intercept {RescaleIntercept} unusable");
        if ((long)Rows * Columns * SamplesPerPixel * BytesPerSample > int.MaxValue)
            throw new DicomPixelDataException($"a {Rows}x{Columns} frame is larger than 2 GiB");
    }
}
