using Pipeline.Imaging;

namespace Pipeline.Denoising.Training.Training;

/// <summary>
/// A clean (or, for Noise2Void, noisy) series used for training or validation, with what the
/// sampler needs precomputed: its bright-tissue level and each slice's foreground pixels.
/// </summary>
public sealed class TrainingSeries
{
    public TrainingSeries(string name, IReadOnlyList<Image> slices)
    {
        ArgumentNullException.ThrowIfNull(slices);
        if (slices.Count == 0)
            throw new ArgumentException($"Series '{name}' has no slices.");
        Name = name;
        Slices = slices;
        var all = slices.SelectMany(s => s.Pixels).Where(v => v > 0).ToArray();
        Array.Sort(all);
        Peak = all.Length == 0 ? 1 : all[(int)(0.995 * (all.Length - 1))];
        // Foreground: clearly above the background (a tenth of the bright-tissue level).
        var threshold = 0.1f * Peak;
        Foreground = slices.Select(s => Enumerable.Range(0, s.Pixels.Length).Where(i => s.Pixels[i] > threshold).ToArray()).ToArray();
    }

    public string Name { get; }

    public IReadOnlyList<Image> Slices { get; }

    /// <summary>99.5th percentile of the non-zero voxels: the level that training rescales to a drawn peak.</summary>
    public float Peak { get; }

    /// <summary>Per slice, the indices of foreground pixels.</summary>
    public IReadOnlyList<int[]> Foreground { get; }

    public double ForegroundFraction(int slice) => Foreground[slice].Length / (double)Slices[slice].Pixels.Length;

    /// <summary>Slices [first, last] of a volume as a series (for splits by slice position).</summary>
    public static TrainingSeries FromRange(string name, Volume volume, int first, int last)
    {
        ArgumentNullException.ThrowIfNull(volume);
        if (first < 0 || last >= volume.Depth || last < first)
            throw new ArgumentOutOfRangeException(nameof(first), $"Slice range {first}..{last} is outside 0..{volume.Depth - 1}.");
        return new TrainingSeries(name, volume.Slices.Skip(first).Take(last - first + 1).ToArray());
    }
}
