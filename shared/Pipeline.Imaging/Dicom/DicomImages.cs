using Pipeline.Dicom;

namespace Pipeline.Imaging.Dicom;

/// <summary>Conversion between decoded DICOM frames and float images (values after the modality rescale).</summary>
public static class DicomImages
{
    /// <summary>
    /// One frame as an image of modality values (stored x Rescale Slope + Rescale Intercept; HU for CT), with
    /// Pixel Spacing (1 mm when absent). MONOCHROME1 is not inverted: inversion is a display matter.
    /// </summary>
    public static Image ToImage(DicomFile file, int frame = 0)
    {
        ArgumentNullException.ThrowIfNull(file);
        var pixels = file.GetPixelData();
        var d = pixels.Description;
        if (d.NotDenoisableReason is { } reason)
            throw new NotSupportedException(reason);
        var spacing = file.Dataset.GetDoubles(DicomTags.PixelSpacing);
        double rowSpacing = spacing.Length == 2 && spacing[0] > 0 ? spacing[0] : 1;
        double columnSpacing = spacing.Length == 2 && spacing[1] > 0 ? spacing[1] : 1;
        return new Image(d.Columns, d.Rows, pixels.GetFrame(frame), columnSpacing, rowSpacing);
    }

    /// <summary>
    /// Back to stored values in the source's bit depth: round-half-away-from-zero((value - intercept) / slope),
    /// clamped to the range Bits Stored and Pixel Representation allow.
    /// </summary>
    public static int[] ToStoredValues(Image image, PixelDescription description)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(description);
        if (image.Width != description.Columns || image.Height != description.Rows)
            throw new ArgumentException($"image is {image.Width}x{image.Height}, description {description.Columns}x{description.Rows}", nameof(image));
        var (min, max) = description.StoredRange;
        var stored = new int[image.Pixels.Length];
        for (var i = 0; i < stored.Length; i++)
        {
            var v = Math.Round((image.Pixels[i] - description.RescaleIntercept) / description.RescaleSlope, MidpointRounding.AwayFromZero);
            stored[i] = (int)Math.Clamp(double.IsNaN(v) ? 0 : v, min, max);
        }
        return stored;
    }

    /// <summary>The data range the metrics use by default: 2^BitsStored - 1.</summary>
    public static double DefaultDataRange(PixelDescription description) => Math.Pow(2, description.BitsStored) - 1;
}
