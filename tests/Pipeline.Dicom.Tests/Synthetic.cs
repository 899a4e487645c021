namespace Pipeline.Dicom.Tests;

/// <summary>Synthetic instances with hand-chosen values: the inputs the oracles then encode and decode.</summary>
internal static class Synthetic
{
    /// <summary>A textured 12-bit-in-16 ramp with noise-like structure, deterministic.</summary>
    public static float[] Pattern(int rows, int columns, int seed = 1, int max = 4095, int min = 0)
    {
        var values = new float[rows * columns];
        var rng = new Random(seed);
        for (int y = 0; y < rows; y++)
            for (int x = 0; x < columns; x++)
            {
                // Flat areas (RLE runs), gradients and random texture (literal runs).
                double v = y < rows / 4 ? min : ((x * 37 + y * 11) % (max - min + 1)) + min;
                if (x > columns / 2) v = Math.Clamp(v + rng.Next(-50, 50), min, max);
                values[y * columns + x] = (float)v;
            }
        return values;
    }

    /// <summary>An MR spec with hand-chosen values; Image Type is MrImageSpec's default unless given.</summary>
    public static MrImageSpec Spec(int rows = 64, int columns = 48, int instance = 1, string[]? imageType = null)
    {
        var spec = BaseSpec(rows, columns, instance);
        return imageType is null ? spec : spec with { ImageType = imageType };
    }

    private static MrImageSpec BaseSpec(int rows, int columns, int instance) => new()
    {
        PatientName = "Test^Patient",
        PatientId = "PID-001",
        StudyInstanceUid = DicomUid.FromNames("test-study"),
        SeriesInstanceUid = DicomUid.FromNames("test-series"),
        SopInstanceUid = DicomUid.FromNames("test-instance", instance.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        FrameOfReferenceUid = DicomUid.FromNames("test-for"),
        SeriesDescription = "T1 synthetic",
        SeriesNumber = 3,
        InstanceNumber = instance,
        StudyDate = "20260101",
        StudyTime = "120000",
        Rows = rows,
        Columns = columns,
        BitsStored = 12,
        Plane = new ImagePlane
        {
            PositionPatient = [-100.5, -80.25, 10 + 2.5 * instance],
            OrientationPatient = [1, 0, 0, 0, 1, 0],
            PixelSpacing = [0.9375, 0.9375],
            SliceThickness = 2.5,
            SpacingBetweenSlices = 2.5,
        },
    };

    public static DicomFile Mr(int rows = 64, int columns = 48, int instance = 1) =>
        MrImage.Create(Spec(rows, columns, instance), Pattern(rows, columns, instance));

    /// <summary>
    /// A Secondary Capture style instance with any pixel layout: values fill the stored range with
    /// flat areas, gradients and pseudo-random texture; samples interleaved (planar configuration 0).
    /// </summary>
    public static DicomFile Image(int bitsAllocated, int bitsStored, bool signed, int samples = 1, int frames = 1, int rows = 40, int columns = 37)
    {
        var ds = new Dataset()
            .SetString(DicomTags.SOPClassUID, "1.2.840.10008.5.1.4.1.1.7")
            .SetString(DicomTags.SOPInstanceUID, DicomUid.FromNames("image", $"{bitsAllocated}/{bitsStored}/{signed}/{samples}/{frames}"))
            .SetString(DicomTags.StudyInstanceUID, DicomUid.FromNames("test-study"))
            .SetString(DicomTags.SeriesInstanceUID, DicomUid.FromNames("test-series-sc"))
            .SetString(DicomTags.Modality, "OT")
            .SetString(DicomTags.PatientName, "Test^Patient")
            .SetNumber(DicomTags.SamplesPerPixel, samples)
            .SetString(DicomTags.PhotometricInterpretation, samples == 3 ? "RGB" : "MONOCHROME2")
            .SetNumber(DicomTags.Rows, rows)
            .SetNumber(DicomTags.Columns, columns)
            .SetNumber(DicomTags.BitsAllocated, bitsAllocated)
            .SetNumber(DicomTags.BitsStored, bitsStored)
            .SetNumber(DicomTags.HighBit, bitsStored - 1)
            .SetNumber(DicomTags.PixelRepresentation, signed ? 1 : 0);
        if (samples == 3) ds.SetNumber(DicomTags.PlanarConfiguration, 0);
        if (frames > 1) ds.SetString(DicomTags.NumberOfFrames, frames.ToString(System.Globalization.CultureInfo.InvariantCulture));
        long min = signed ? -(1L << (bitsStored - 1)) : 0, max = signed ? (1L << (bitsStored - 1)) - 1 : (1L << bitsStored) - 1;
        int bytes = bitsAllocated / 8;
        int count = rows * columns * samples * frames;
        var data = new byte[count * bytes + (count * bytes & 1)];
        var rng = new Random(bitsStored * 31 + samples);
        for (int i = 0; i < count; i++)
        {
            int pixel = i / samples % (rows * columns), y = pixel / columns, x = pixel % columns;
            long v = y < rows / 5 ? min : y < rows / 2 ? min + (x * (max - min) / Math.Max(1, columns - 1)) : min + (long)(rng.NextDouble() * (max - min));
            if (i % 97 == 0) v = max;
            ulong word = (ulong)v & (bitsAllocated == 32 ? 0xFFFFFFFFUL : (1UL << bitsAllocated) - 1);
            for (int b = 0; b < bytes; b++) data[i * bytes + b] = (byte)(word >> (8 * b));
        }
        ds.SetBytes(DicomTags.PixelData, bitsAllocated == 8 ? DicomVR.OB : DicomVR.OW, data);
        return new DicomFile(ds);
    }
}
