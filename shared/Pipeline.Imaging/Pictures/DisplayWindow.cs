namespace Pipeline.Imaging.Pictures;

/// <summary>A grey-scale display window: values at or below <see cref="Low"/> are black, at or above <see cref="High"/> white.</summary>
public sealed record DisplayWindow(double Low, double High)
{
    /// <summary>
    /// A window from robust percentiles of the non-background pixels (above the minimum): 1st to 99.5th by default,
    /// so air and a few hot pixels do not wash out the anatomy.
    /// </summary>
    public static DisplayWindow FromPercentiles(IEnumerable<Image> images, double low = 1, double high = 99.5)
    {
        ArgumentNullException.ThrowIfNull(images);
        var window = Normalisation.IntensityNormalisation.Fit(images, new Normalisation.NormalisationOptions(low, high));
        return window.High > window.Low ? new DisplayWindow(window.Low, window.High) : new DisplayWindow(window.Low, window.Low + 1);
    }

    /// <summary>A window centred on zero, for differences.</summary>
    public static DisplayWindow Symmetric(double halfWidth) => new(-halfWidth, halfWidth);

    /// <summary>Grey level 0-255 (rounded to nearest).</summary>
    public byte Grey(float value)
    {
        var t = (value - Low) / (High - Low);
        return t <= 0 ? (byte)0 : t >= 1 ? (byte)255 : (byte)Math.Round(t * 255);
    }
}
