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

    public static MrImageSpec Spec(int rows = 64, int columns = 48, int instance = 1) => new()
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
        ImageType = ["ORIGINAL", "PRIMARY", "OTHER"],
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
}
