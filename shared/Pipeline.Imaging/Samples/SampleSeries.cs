using Pipeline.Dicom;
using Pipeline.Imaging.Noise;

namespace Pipeline.Imaging.Samples;

/// <summary>Names and descriptions written into a generated sample study (synthetic: no real patient).</summary>
public sealed record SampleSeriesOptions
{
    /// <summary>Seeds every UID, so the same name regenerates byte-identical files.</summary>
    public required string Name { get; init; }
    public string PatientName { get; init; } = "SAMPLE^COLIN27";
    public string PatientId { get; init; } = "SAMPLE-0001";
    public string StudyDescription { get; init; } = "Pipeline sample study";
    /// <summary>A fixed, obviously synthetic date and time keep regenerated files identical.</summary>
    public string StudyDate { get; init; } = "20000101";
    public string StudyTime { get; init; } = "120000";
    public string SeriesDescription { get; init; } = "T1 from NIfTI";
    /// <summary>Bits Stored of the 16-bit pixels; 12 as most MR scanners write.</summary>
    public int BitsStored { get; init; } = 12;

    /// <summary>The options `pipeline samples make` uses for slices first .. first + count - 1 of a NIfTI file.</summary>
    public static SampleSeriesOptions ForSlab(string niftiPath, int first, int count) =>
        new() { Name = string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{Path.GetFileName(niftiPath)}|{first}+{count}") };
}

/// <summary>What was written.</summary>
public sealed record WrittenSeries(IReadOnlyList<string> Files, string StudyInstanceUid, string SeriesInstanceUid);

/// <summary>
/// Turns a volume (e.g. from NIfTI) into a realistic MR Image Storage series: one 16-bit instance per slice,
/// deterministic UIDs, Image Position/Orientation (Patient), Pixel Spacing, Slice Thickness and Spacing Between
/// Slices from the volume geometry.
/// </summary>
/// <remarks>
/// Intensities are first mapped to the stored range: stored = round((v - low) * (2^BitsStored - 1) / (max - low)) with
/// low = min(0, volume minimum), so noise levels (fractions of 2^BitsStored - 1) mean the same on every sample.
/// </remarks>
public static class SampleSeries
{
    /// <summary>The volume on the stored integer scale (see remarks).</summary>
    public static Volume ToStoredScale(Volume volume, int bitsStored = 12)
    {
        ArgumentNullException.ThrowIfNull(volume);
        var (min, max) = volume.Range();
        double low = Math.Min(0, min), top = Math.Pow(2, bitsStored) - 1;
        var scale = max > low ? top / (max - low) : 1;
        var slices = volume.Slices.Select(s =>
        {
            var result = s.Blank();
            for (var i = 0; i < result.Pixels.Length; i++) result.Pixels[i] = (float)Math.Round((s.Pixels[i] - low) * scale);
            return result;
        }).ToArray();
        return volume.With(slices);
    }

    /// <summary>How a noisy series is told apart from the clean one (in its UIDs and description).</summary>
    public static string NoisyKind(NoiseModel noise, int seed) =>
        string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{noise} seed {seed}");

    /// <summary>Seeded noise on the stored scale (data range 2^BitsStored - 1), rounded and clamped to the stored range.</summary>
    public static Volume AddNoise(Volume stored, NoiseModel noise, int seed, int bitsStored = 12)
    {
        ArgumentNullException.ThrowIfNull(stored);
        ArgumentNullException.ThrowIfNull(noise);
        var top = Math.Pow(2, bitsStored) - 1;
        var noisy = noise.Apply(stored, top, seed);
        foreach (var slice in noisy.Slices)
            for (var i = 0; i < slice.Pixels.Length; i++)
                slice.Pixels[i] = (float)Math.Clamp(Math.Round(slice.Pixels[i]), 0, top);
        return noisy;
    }

    /// <summary>
    /// Writes <paramref name="stored"/> (already on the stored scale) as one series into <paramref name="folder"/>
    /// (files 0001.dcm, 0002.dcm ... in slice order). <paramref name="kind"/> ("clean", "rician:0.1 seed 1") tells
    /// series of one study apart in their UIDs and descriptions.
    /// </summary>
    public static WrittenSeries Write(Volume stored, string folder, SampleSeriesOptions options, string kind = "clean", int seriesNumber = 1)
    {
        ArgumentNullException.ThrowIfNull(stored);
        ArgumentNullException.ThrowIfNull(options);
        Directory.CreateDirectory(folder);
        var g = stored.Geometry;
        var study = DicomUid.FromNames("pipeline-sample-study", options.Name);
        var frameOfReference = DicomUid.FromNames("pipeline-sample-frame-of-reference", options.Name);
        var series = DicomUid.FromNames("pipeline-sample-series", options.Name, kind);
        var files = new string[stored.Depth];
        Parallel.For(0, stored.Depth, k =>
        {
            var position = g.SlicePosition(k);
            var spec = new MrImageSpec
            {
                // Synthesised from a template, hence DERIVED; MR requires value 3 ("OTHER": no specific map type).
                ImageType = ["DERIVED", "SECONDARY", "OTHER"],
                PatientName = options.PatientName,
                PatientId = options.PatientId,
                StudyInstanceUid = study,
                StudyDescription = options.StudyDescription,
                StudyDate = options.StudyDate,
                StudyTime = options.StudyTime,
                StudyId = "1",
                SeriesInstanceUid = series,
                SeriesNumber = seriesNumber,
                SeriesDescription = kind == "clean" ? options.SeriesDescription : $"{options.SeriesDescription} {kind}",
                SopInstanceUid = DicomUid.FromNames("pipeline-sample-instance", options.Name, kind, k.ToString(System.Globalization.CultureInfo.InvariantCulture)),
                InstanceNumber = k + 1,
                FrameOfReferenceUid = frameOfReference,
                Rows = stored.Height,
                Columns = stored.Width,
                BitsStored = options.BitsStored,
                Plane = new ImagePlane
                {
                    PositionPatient = [position.X, position.Y, position.Z],
                    OrientationPatient = [g.RowDirection.X, g.RowDirection.Y, g.RowDirection.Z, g.ColumnDirection.X, g.ColumnDirection.Y, g.ColumnDirection.Z],
                    PixelSpacing = [g.RowSpacing, g.ColumnSpacing],
                    SliceThickness = g.SliceSpacing,
                    SpacingBetweenSlices = g.SliceSpacing,
                },
            };
            var path = Path.Combine(folder, $"{k + 1:D4}.dcm");
            MrImage.Create(spec, stored.Slices[k].Pixels).Save(path);
            files[k] = path;
        });
        return new WrittenSeries(files, study, series);
    }
}
