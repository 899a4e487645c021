using System.Globalization;

namespace Pipeline.Imaging.Noise;

/// <summary>
/// A seeded, reproducible noise process used to make training data and benchmarks.
/// <see cref="Level"/> is a fraction of the data range (e.g. 2^BitsStored - 1) unless the model says otherwise.
/// </summary>
/// <remarks>
/// Same clean input, data range and seed give bit-identical output on every machine: the generator is
/// <see cref="Random(int)"/> (the fixed, seeded legacy algorithm), consumed in pixel order. Output is not
/// clipped: a DICOM writer clamps to the stored range.
/// </remarks>
public abstract record NoiseModel(double Level)
{
    /// <summary>Short name used in specs and reports, e.g. "rician".</summary>
    public abstract string Name { get; }

    /// <summary>Writes a noisy copy of <paramref name="clean"/> into <paramref name="noisy"/> (they may alias).</summary>
    public abstract void Apply(ReadOnlySpan<float> clean, Span<float> noisy, double dataRange, Random random);

    /// <summary>A noisy copy of one image.</summary>
    public Image Apply(Image clean, double dataRange, int seed)
    {
        ArgumentNullException.ThrowIfNull(clean);
        var noisy = clean.Blank();
        Apply(clean.Pixels, noisy.Pixels, dataRange, new Random(seed));
        return noisy;
    }

    /// <summary>A noisy copy of a volume; slice k uses its own seed derived from (seed, k), so slices can run in any order.</summary>
    public Volume Apply(Volume clean, double dataRange, int seed)
    {
        ArgumentNullException.ThrowIfNull(clean);
        var slices = new Image[clean.Depth];
        Parallel.For(0, clean.Depth, k => slices[k] = Apply(clean.Slices[k], dataRange, SliceSeed(seed, k)));
        return clean.With(slices);
    }

    /// <summary>Seed of slice <paramref name="k"/>: a SplitMix64 mix of the series seed and the slice index.</summary>
    public static int SliceSeed(int seed, int k)
    {
        var z = unchecked((ulong)(uint)seed * 0x9E3779B97F4A7C15UL + (ulong)k + 1);
        z = unchecked((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL);
        z = unchecked((z ^ (z >> 27)) * 0x94D049BB133111EBUL);
        return unchecked((int)(z ^ (z >> 31)));
    }

    /// <summary>Parses "gaussian:0.05", "rician:0.1", "poisson:0.05" or "masking:0.25".</summary>
    public static NoiseModel Parse(string spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var parts = spec.Split(':', 2, StringSplitOptions.TrimEntries);
        if (parts.Length != 2 || !double.TryParse(parts[1], NumberStyles.Float, CultureInfo.InvariantCulture, out var level))
            throw new FormatException($"noise spec '{spec}' is not NAME:LEVEL (e.g. rician:0.1)");
        return parts[0].ToLowerInvariant() switch
        {
            "gaussian" => new GaussianNoise(level),
            "rician" => new RicianNoise(level),
            "poisson" => new PoissonNoise(level),
            "masking" or "mask" => new MaskingNoise(level),
            _ => throw new FormatException($"unknown noise model '{parts[0]}' (gaussian, rician, poisson, masking)"),
        };
    }

    public sealed override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Name}:{Level}");

    protected void RequireLevel(double max = double.PositiveInfinity)
    {
        if (!(Level >= 0 && Level <= max))
            throw new ArgumentOutOfRangeException(nameof(Level), Level, $"{Name} level must be in [0, {max}]");
    }

    protected static void RequireSpans(ReadOnlySpan<float> clean, Span<float> noisy, double dataRange)
    {
        if (clean.Length != noisy.Length) throw new ArgumentException("clean and noisy spans differ in length");
        if (!(dataRange > 0)) throw new ArgumentOutOfRangeException(nameof(dataRange), dataRange, "data range must be positive");
    }
}

/// <summary>Additive white Gaussian noise: x + s*n, n ~ N(0,1), s = Level * data range.</summary>
public sealed record GaussianNoise(double Level) : NoiseModel(Level)
{
    public override string Name => "gaussian";

    public override void Apply(ReadOnlySpan<float> clean, Span<float> noisy, double dataRange, Random random)
    {
        RequireSpans(clean, noisy, dataRange);
        RequireLevel();
        var sigma = Level * dataRange;
        var normal = new StandardNormal(random);
        for (var i = 0; i < clean.Length; i++)
            noisy[i] = (float)(clean[i] + sigma * normal.Next());
    }
}

/// <summary>
/// Magnitude-MRI noise: sqrt((x + s*n1)^2 + (s*n2)^2), n1, n2 ~ N(0,1) independent, s = Level * data range
/// (the standard deviation of each quadrature channel before the magnitude).
/// </summary>
public sealed record RicianNoise(double Level) : NoiseModel(Level)
{
    public override string Name => "rician";

    public override void Apply(ReadOnlySpan<float> clean, Span<float> noisy, double dataRange, Random random)
    {
        RequireSpans(clean, noisy, dataRange);
        RequireLevel();
        var sigma = Level * dataRange;
        var normal = new StandardNormal(random);
        for (var i = 0; i < clean.Length; i++)
        {
            var re = clean[i] + sigma * normal.Next();
            var im = sigma * normal.Next();
            noisy[i] = (float)Math.Sqrt(re * re + im * im);
        }
    }
}

/// <summary>
/// Photon-count (shot) noise: a pixel of value x counts Poisson(N * x / R) photons, scaled back by R / N, with
/// N = 1 / Level^2 photons at the top of the data range R. So Level is the relative standard deviation at full
/// range (s = Level * R there) and noise grows as sqrt(x). Negative inputs count zero photons.
/// </summary>
public sealed record PoissonNoise(double Level) : NoiseModel(Level)
{
    public override string Name => "poisson";

    public override void Apply(ReadOnlySpan<float> clean, Span<float> noisy, double dataRange, Random random)
    {
        RequireSpans(clean, noisy, dataRange);
        RequireLevel();
        if (Level == 0)
        {
            clean.CopyTo(noisy);
            return;
        }
        var photonsAtFullRange = 1 / (Level * Level);
        var countsPerUnit = photonsAtFullRange / dataRange;
        for (var i = 0; i < clean.Length; i++)
        {
            var lambda = Math.Max(clean[i], 0) * countsPerUnit;
            noisy[i] = (float)(PoissonSampler.Next(random, lambda) / countsPerUnit);
        }
    }
}

/// <summary>
/// Masking noise of the classic denoising autoencoder: each pixel is set to zero with probability Level
/// (here Level is a fraction of pixels, not of the data range).
/// </summary>
public sealed record MaskingNoise(double Level) : NoiseModel(Level)
{
    public override string Name => "masking";

    public override void Apply(ReadOnlySpan<float> clean, Span<float> noisy, double dataRange, Random random)
    {
        RequireSpans(clean, noisy, dataRange);
        RequireLevel(1);
        for (var i = 0; i < clean.Length; i++)
            noisy[i] = random.NextDouble() < Level ? 0f : clean[i];
    }
}
