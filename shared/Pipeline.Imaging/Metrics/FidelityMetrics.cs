namespace Pipeline.Imaging.Metrics;

/// <summary>Full-reference pixel metrics: mean squared error and PSNR against an explicit data range.</summary>
public static class FidelityMetrics
{
    /// <summary>Mean of (reference - test)^2 over all pixels, or over the pixels where <paramref name="mask"/> is true.</summary>
    public static double Mse(Image reference, Image test, bool[]? mask = null)
    {
        ArgumentNullException.ThrowIfNull(reference);
        ArgumentNullException.ThrowIfNull(test);
        reference.RequireSameShape(test, nameof(test));
        RequireMask(reference, mask);
        var a = reference.Pixels;
        var b = test.Pixels;
        double sum = 0;
        long count = 0;
        for (var i = 0; i < a.Length; i++)
        {
            if (mask is not null && !mask[i]) continue;
            double d = (double)a[i] - b[i];
            sum += d * d;
            count++;
        }
        return count == 0 ? throw new ArgumentException("the mask selects no pixels", nameof(mask)) : sum / count;
    }

    /// <summary>10 log10(R^2 / MSE) in dB; +infinity when the images are identical.</summary>
    public static double Psnr(Image reference, Image test, double dataRange, bool[]? mask = null) =>
        PsnrFromMse(Mse(reference, test, mask), dataRange);

    /// <summary>PSNR in dB for an already computed MSE (e.g. the mean MSE of a series).</summary>
    public static double PsnrFromMse(double mse, double dataRange)
    {
        if (!(dataRange > 0)) throw new ArgumentOutOfRangeException(nameof(dataRange), dataRange, "data range must be positive");
        return mse == 0 ? double.PositiveInfinity : 10 * Math.Log10(dataRange * dataRange / mse);
    }

    internal static void RequireMask(Image image, bool[]? mask)
    {
        if (mask is not null && mask.Length != image.Pixels.Length)
            throw new ArgumentException($"mask has {mask.Length} entries, image has {image.Pixels.Length} pixels", nameof(mask));
    }
}
