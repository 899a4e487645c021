namespace Pipeline.Imaging.Normalisation;

/// <summary>How <see cref="IntensityNormalisation.Fit(IEnumerable{Image}, NormalisationOptions?)"/> picks the series' intensity window.</summary>
/// <param name="LowPercentile">Lower robust percentile of the foreground (0-100), mapped near 0.</param>
/// <param name="HighPercentile">Upper robust percentile of the foreground (0-100), mapped to at most 1.</param>
/// <param name="Background">Values at or below this are background/padding and do not vote; null = the series minimum.</param>
/// <param name="Saturation">Values at or above this are saturated (clipped at acquisition) and do not vote; null = none.</param>
/// <param name="MaxSamples">Percentiles are taken on an evenly strided sample of at most this many voxels.</param>
public sealed record NormalisationOptions(
    double LowPercentile = 0.5,
    double HighPercentile = 99.5,
    double? Background = null,
    double? Saturation = null,
    int MaxSamples = 1 << 20);

/// <summary>
/// Recorded per-series intensity mapping for the network: y = (x - Offset) / Scale, inverted exactly on output.
/// </summary>
/// <remarks>
/// x is in physical units after the DICOM rescale (HU for CT), so CT windows mean the same thing in every series.
/// Offset is an integer and Scale a power of two, so both directions are exact in float arithmetic for values on an
/// integer grid below 2^24 (every stored DICOM value with slope 1): Denormalise(Normalise(x)) == x bit for bit.
/// The robust foreground window [low, high] therefore lands in [0, 0.5..1]. Values outside it are not clipped.
/// </remarks>
public sealed record IntensityNormalisation(double Offset, double Scale, double Low, double High, double Background, double? Saturation)
{
    /// <summary>Fits the mapping to a whole series (all slices share one mapping so that slices stay comparable).</summary>
    public static IntensityNormalisation Fit(IEnumerable<Image> slices, NormalisationOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(slices);
        options ??= new NormalisationOptions();
        if (!(options.LowPercentile >= 0 && options.LowPercentile < options.HighPercentile && options.HighPercentile <= 100))
            throw new ArgumentOutOfRangeException(nameof(options), "percentiles must satisfy 0 <= low < high <= 100");
        var list = slices as IReadOnlyList<Image> ?? slices.ToList();
        if (list.Count == 0) throw new ArgumentException("no slices", nameof(slices));

        var background = options.Background ?? list.Min(s => s.Range().Min);
        long total = list.Sum(s => (long)s.Pixels.Length);
        var stride = Math.Max(1, (int)Math.Ceiling(total / (double)options.MaxSamples));
        var samples = new List<float>((int)Math.Min(total / stride + 1, options.MaxSamples + 1));
        long index = 0;
        foreach (var slice in list)
        {
            // Stride runs across slice boundaries so small slices are sampled too.
            var pixels = slice.Pixels;
            var start = (int)((stride - index % stride) % stride);
            for (var i = start; i < pixels.Length; i += stride)
            {
                var v = pixels[i];
                if (v > background && (options.Saturation is null || v < options.Saturation)) samples.Add(v);
            }
            index += pixels.Length;
        }

        if (samples.Count == 0)
            return FromWindow(background, background + 1, background, options.Saturation); // blank series
        var sorted = samples.ToArray();
        Array.Sort(sorted);
        var low = Percentile(sorted, options.LowPercentile);
        var high = Percentile(sorted, options.HighPercentile);
        return FromWindow(low, high, background, options.Saturation);
    }

    /// <summary>A fixed window, e.g. a CT range in HU, so every series maps the same tissue to the same value.</summary>
    public static IntensityNormalisation Fixed(double low, double high) => FromWindow(low, high, double.NegativeInfinity, null);

    private static IntensityNormalisation FromWindow(double low, double high, double background, double? saturation)
    {
        if (!double.IsFinite(low) || !double.IsFinite(high)) throw new ArgumentOutOfRangeException(nameof(low), "window must be finite");
        var offset = Math.Floor(low);
        var span = Math.Max(high - offset, 1e-30);
        var scale = Math.Pow(2, Math.Ceiling(Math.Log2(span)));
        if (scale < span) scale *= 2; // Log2 rounding
        return new IntensityNormalisation(offset, scale, low, high, background, saturation);
    }

    public float Normalise(float x) => (float)((x - Offset) / Scale);

    public float Denormalise(float y) => (float)(y * Scale + Offset);

    public void Normalise(ReadOnlySpan<float> source, Span<float> destination)
    {
        RequireSameLength(source, destination);
        for (var i = 0; i < source.Length; i++) destination[i] = Normalise(source[i]);
    }

    public void Denormalise(ReadOnlySpan<float> source, Span<float> destination)
    {
        RequireSameLength(source, destination);
        for (var i = 0; i < source.Length; i++) destination[i] = Denormalise(source[i]);
    }

    public Image Normalise(Image image)
    {
        ArgumentNullException.ThrowIfNull(image);
        var result = image.Blank();
        Normalise(image.Pixels, result.Pixels);
        return result;
    }

    public Image Denormalise(Image image)
    {
        ArgumentNullException.ThrowIfNull(image);
        var result = image.Blank();
        Denormalise(image.Pixels, result.Pixels);
        return result;
    }

    /// <summary>
    /// Puts back the original value of pixels that were background or saturated in <paramref name="original"/>:
    /// the true value of a clipped pixel is unknown and padding carries no signal, so a denoiser must not invent either.
    /// Nor does any output go below the background level (the series' floor: padding, or a magnitude image's
    /// zero): a denoiser's undershoot in air there is error, and a DICOM writer would clip it anyway.
    /// </summary>
    public Image RestoreExcluded(Image original, Image output)
    {
        ArgumentNullException.ThrowIfNull(original);
        ArgumentNullException.ThrowIfNull(output);
        original.RequireSameShape(output, nameof(output));
        var result = output.Clone();
        var source = original.Pixels;
        for (var i = 0; i < source.Length; i++)
        {
            var v = source[i];
            if (v <= Background || (Saturation is { } s && v >= s)) result.Pixels[i] = v;
            else if (result.Pixels[i] < Background) result.Pixels[i] = (float)Background;
        }
        return result;
    }

    /// <summary>numpy's default (linear) percentile of sorted data, p in [0, 100].</summary>
    public static double Percentile(ReadOnlySpan<float> sorted, double p)
    {
        var position = p / 100 * (sorted.Length - 1);
        var lower = (int)Math.Floor(position);
        var upper = Math.Min(lower + 1, sorted.Length - 1);
        var fraction = position - lower;
        return sorted[lower] + fraction * ((double)sorted[upper] - sorted[lower]);
    }

    private static void RequireSameLength(ReadOnlySpan<float> source, Span<float> destination)
    {
        if (source.Length != destination.Length) throw new ArgumentException("source and destination differ in length");
    }
}
