using Pipeline.Imaging;
using Pipeline.Imaging.Noise;
using Pipeline.Imaging.Normalisation;

namespace Pipeline.Denoising.Evaluation;

/// <summary>A clean-intensity scaling of the protocol: the head's 99.5th percentile at <see cref="Peak"/> of the range.</summary>
public sealed record Scaling(string Name, double Peak);

/// <summary>The parameters of the quality protocol; the defaults are the protocol.</summary>
public sealed record QualityProtocolOptions
{
    public double DataRange { get; init; } = 4095;

    /// <summary>Scored slices, evenly spaced among the test slices with enough foreground.</summary>
    public int SliceCount { get; init; } = 12;

    /// <summary>A candidate slice's foreground must cover at least this fraction of it.</summary>
    public double MinForegroundFraction { get; init; } = 0.2;

    /// <summary>Head voxels are those above this fraction of the 99.5th percentile of the non-zero voxels.</summary>
    public double HeadThresholdFraction { get; init; } = 0.1;

    public double HeadPercentile { get; init; } = 99.5;

    public IReadOnlyList<Scaling> Scalings { get; init; } = [new("dim", 0.3), new("bright", 0.9)];

    public double TrainFraction { get; init; } = SliceSplit.DefaultTrainFraction;
    public double ValidationFraction { get; init; } = SliceSplit.DefaultValidationFraction;

    public int Seed { get; init; } = 1;

    /// <summary>
    /// Where the scored slices come from: the test slices (the protocol), or the validation slices, so that a choice
    /// between models or settings can be made by the same measure without ever reading the test set.
    /// </summary>
    public SplitPart Part { get; init; } = SplitPart.Test;
}

/// <summary>The held-out part of a <see cref="SliceSplit"/> that the protocol scores.</summary>
public enum SplitPart
{
    Test,
    Validation,

    /// <summary>Every slice: only for volumes the model never trained on (the generalisation protocol).</summary>
    Whole,
}

/// <summary>One noisy case: a scaling and a noise level, with the clean and noisy test slices (and their context).</summary>
public sealed record QualityCase(Scaling Scaling, NoiseModel Noise, IReadOnlyDictionary<int, Image> Clean, IReadOnlyDictionary<int, Image> Noisy);

/// <summary>
/// The quality protocol that scores denoisers, as pure functions: axial slices from the test part of the volume (the top 20 %:
/// above the 70 % train and 10 % validation slices), <see cref="QualityProtocolOptions.SliceCount"/> of them evenly
/// spaced among those whose head covers at least 20 % of the slice; the clean values scaled so the head's 99.5th
/// percentile sits at 30 % ("dim") and 90 % ("bright") of the range, rounded to 16-bit integers; seeded noise, not
/// clipped. Scores are whole-slice PSNR and SSIM with the protocol's data range.
/// </summary>
public static class QualityProtocol
{
    /// <summary>The protocol's noise levels as a spec: Rician at 5, 10, 15 and 20 % of the data range.</summary>
    public const string NoiseLevelsSpec = "rician:0.05,0.10,0.15,0.20";

    /// <summary>The protocol's noise levels, one noise model each (<see cref="NoiseLevelsSpec"/>).</summary>
    public static IReadOnlyList<NoiseModel> NoiseLevels { get; } = ParseLevels(NoiseLevelsSpec);

    /// <summary>"rician:0.05,0.10" into one noise model per level.</summary>
    public static IReadOnlyList<NoiseModel> ParseLevels(string spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var parts = spec.Split(':', 2, StringSplitOptions.TrimEntries);
        if (parts.Length != 2 || parts[1].Length == 0)
            throw new FormatException($"noise spec '{spec}' is not NAME:LEVEL[,LEVEL...] (e.g. rician:0.05,0.10)");
        return parts[1].Split(',', StringSplitOptions.TrimEntries).Select(l => NoiseModel.Parse($"{parts[0]}:{l}")).ToArray();
    }

    /// <summary>The level above which a voxel belongs to the head: a fraction of the 99.5th percentile of non-zero voxels.</summary>
    public static double HeadThreshold(Volume volume, QualityProtocolOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(volume);
        options ??= new QualityProtocolOptions();
        var nonZero = Sorted(volume.Slices.SelectMany(s => s.Pixels).Where(v => v > 0));
        if (nonZero.Length == 0)
            throw new ArgumentException("The volume has no non-zero voxels.");
        return options.HeadThresholdFraction * IntensityNormalisation.Percentile(nonZero, options.HeadPercentile);
    }

    /// <summary>The head's 99.5th percentile (numpy linear interpolation) over the whole volume: what the scalings map.</summary>
    public static double HeadPeak(Volume volume, QualityProtocolOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(volume);
        options ??= new QualityProtocolOptions();
        var threshold = HeadThreshold(volume, options);
        return IntensityNormalisation.Percentile(Sorted(volume.Slices.SelectMany(s => s.Pixels).Where(v => v > threshold)), options.HeadPercentile);
    }

    /// <summary>
    /// The scored slices: among the test (or validation) slices whose head fraction is at least the minimum, the i-th of n is
    /// candidate round(i (m - 1) / (n - 1)) (half away from zero).
    /// </summary>
    public static int[] SelectSlices(Volume volume, QualityProtocolOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(volume);
        options ??= new QualityProtocolOptions();
        var split = options.Part == SplitPart.Whole ? null : SliceSplit.ByPosition(volume.Depth, options.TrainFraction, options.ValidationFraction);
        var threshold = HeadThreshold(volume, options);
        var (first, last) = options.Part switch
        {
            SplitPart.Validation => (split!.ValidationFirst, split.ValidationLast),
            SplitPart.Test => (split!.TestFirst, split.TestLast),
            _ => (0, volume.Depth - 1),
        };
        var candidates = Enumerable.Range(first, last - first + 1)
            .Where(k => volume.Slices[k].Pixels.Count(v => v > threshold) >= options.MinForegroundFraction * volume.Slices[k].Pixels.Length)
            .ToArray();
        if (candidates.Length < options.SliceCount)
            throw new ArgumentException(
                $"Only {candidates.Length} {options.Part.ToString().ToLowerInvariant()} slices (from {first}) have >= {options.MinForegroundFraction:P0} head; the protocol needs {options.SliceCount}.");
        if (options.SliceCount == 1)
            return [candidates[candidates.Length / 2]];
        return Enumerable.Range(0, options.SliceCount)
            .Select(i => candidates[(int)Math.Round(i * (candidates.Length - 1) / (double)(options.SliceCount - 1), MidpointRounding.AwayFromZero)])
            .ToArray();
    }

    /// <summary>Clean slice scaled by <paramref name="factor"/> and rounded (half to even, as numpy) into 0..65535.</summary>
    public static Image Scale(Image slice, double factor)
    {
        ArgumentNullException.ThrowIfNull(slice);
        var result = slice.Blank();
        for (var i = 0; i < slice.Pixels.Length; i++)
            result.Pixels[i] = (float)Math.Clamp(Math.Round(slice.Pixels[i] * factor), 0, ushort.MaxValue);
        return result;
    }

    /// <summary>
    /// Every (scaling, level) case with the scored slices and <paramref name="contextSlices"/> neighbours each side
    /// (clamped to the volume), clean and noisy. Slice k of case c gets seed SliceSeed(SliceSeed(Seed, c), k), so a
    /// slice's noise does not depend on which neighbours are also asked for.
    /// </summary>
    public static IReadOnlyList<QualityCase> Cases(Volume volume, IReadOnlyList<NoiseModel> levels, int[] slices, int contextSlices = 0,
        QualityProtocolOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(volume);
        ArgumentNullException.ThrowIfNull(levels);
        ArgumentNullException.ThrowIfNull(slices);
        options ??= new QualityProtocolOptions();
        var peak = HeadPeak(volume, options);
        var needed = slices.SelectMany(k => Enumerable.Range(k - contextSlices, 2 * contextSlices + 1))
            .Select(k => Math.Clamp(k, 0, volume.Depth - 1)).Distinct().Order().ToArray();
        var cases = new List<QualityCase>();
        foreach (var scaling in options.Scalings)
        {
            var factor = scaling.Peak * options.DataRange / peak;
            var clean = needed.ToDictionary(k => k, k => Scale(volume.Slices[k], factor));
            foreach (var noise in levels)
            {
                var caseSeed = NoiseModel.SliceSeed(options.Seed, cases.Count);
                var noisy = new Dictionary<int, Image>();
                var images = new Image[needed.Length];
                Parallel.For(0, needed.Length, i => images[i] = noise.Apply(clean[needed[i]], options.DataRange, NoiseModel.SliceSeed(caseSeed, needed[i])));
                for (var i = 0; i < needed.Length; i++)
                    noisy[needed[i]] = images[i];
                cases.Add(new QualityCase(scaling, noise, clean, noisy));
            }
        }
        return cases;
    }

    /// <summary>Slices k - c .. k + c of a case (clamped at the volume's ends): what a 2.5D method is given.</summary>
    public static Image[] Stack(IReadOnlyDictionary<int, Image> slices, int k, int contextSlices, int depth) =>
        Enumerable.Range(k - contextSlices, 2 * contextSlices + 1).Select(j => slices[Math.Clamp(j, 0, depth - 1)]).ToArray();

    private static float[] Sorted(IEnumerable<float> values)
    {
        var array = values.ToArray();
        Array.Sort(array);
        return array;
    }
}
