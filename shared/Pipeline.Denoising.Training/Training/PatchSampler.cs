using Pipeline.Imaging;
using Pipeline.Imaging.Noise;
using Pipeline.Imaging.Normalisation;

namespace Pipeline.Denoising.Training.Training;

/// <summary>
/// A training batch in normalised units: inputs [B, C, P, P], targets [B, 1, P, P], optional loss mask, and each
/// patch's noise level in the same units (level x data range / the patch's normalisation scale).
/// </summary>
/// <param name="NoiseLevels">Each patch's noise standard deviation in normalised units.</param>
/// <param name="Floors">Each patch's series floor (the background level inference clamps to) in normalised units.</param>
/// <param name="Neighbours">Neighbor2Neighbor: each patch's sub-sampler draw (<see cref="NeighbourSubsampler"/>).</param>
internal sealed record PatchBatch(float[] Inputs, float[] Targets, float[]? Mask, float[] NoiseLevels, float[] Floors,
    NeighbourPairs? Neighbours = null);

/// <summary>Per patch, the full-image index of each pixel of g1 and of g2: [B, (P/2)^2] each, row-major.</summary>
internal sealed record NeighbourPairs(long[] First, long[] Second);

/// <summary>
/// Draws training patches on the fly: a series and slice weighted by foreground, a patch centred
/// on foreground most of the time, the series rescaled to a random brightness, synthetic noise of
/// a random type and level (none for <see cref="TrainingOptions.NoisyData"/>), then the same per-series normalisation
/// as inference (fitted on the noisy slice). Self-supervised modes target the noisy centre slice itself. Everything for step s comes from a generator seeded by (seed, s), so a resumed run
/// draws exactly the batches an uninterrupted one would.
/// </summary>
internal sealed class PatchSampler
{
    private readonly TrainingOptions _options;
    private readonly IReadOnlyList<TrainingSeries> _series;
    private readonly NormalisationOptions _normalisation;
    private readonly NoiseModel[] _noiseTypes;
    private readonly double[] _seriesWeights;

    public PatchSampler(TrainingOptions options, IReadOnlyList<TrainingSeries> series, NormalisationOptions normalisation)
    {
        _options = options;
        _series = series.Count > 0 ? series : throw new ArgumentException("No training series.");
        _normalisation = normalisation;
        _noiseTypes = options.NoiseTypes.Select(t => NoiseModel.Parse($"{t}:0")).ToArray();
        foreach (var s in series)
            if (s.Slices[0].Width < options.PatchSize || s.Slices[0].Height < options.PatchSize)
                throw new ArgumentException($"Series '{s.Name}' slices are smaller than the {options.PatchSize}-pixel patch.");
        _seriesWeights = series.Select(s => (double)s.Foreground.Sum(f => f.Length) + 1).ToArray();
    }

    public static int StepSeed(int seed, int step) => NoiseModel.SliceSeed(seed, step);

    public PatchBatch Sample(int step)
    {
        var random = new Random(StepSeed(_options.Seed, step));
        int p = _options.PatchSize, b = _options.BatchSize, c = _options.Architecture.InChannels, k = _options.Architecture.ContextSlices;
        var inputs = new float[b * c * p * p];
        var targets = new float[b * p * p];
        var mask = _options.Mode == TrainingOptions.Noise2Void ? new float[b * p * p] : null;
        var neighbours = _options.Mode == TrainingOptions.Neighbor2Neighbor ? new NeighbourPairs(new long[b * p * p / 4], new long[b * p * p / 4]) : null;
        var selfSupervised = _options.Mode != TrainingOptions.Supervised;
        var noiseLevels = new float[b];
        var floors = new float[b];
        for (var n = 0; n < b; n++)
        {
            var series = _series[Pick(random, _seriesWeights)];
            var slice = Pick(random, series.Foreground.Select(f => f.Length + 1.0).ToArray());
            var image = series.Slices[slice];
            var (x0, y0) = PatchOrigin(random, series.Foreground[slice], image.Width, image.Height, p);
            var scale = (float)(random.NextDouble() * (_options.MaxPeak - _options.MinPeak) + _options.MinPeak) * (float)_options.DataRange / series.Peak;
            NoiseModel? noise = _options.NoisyData ? null : _noiseTypes[random.Next(_noiseTypes.Length)] with
            {
                Level = random.NextDouble() * (_options.MaxLevel - _options.MinLevel) + _options.MinLevel,
            };
            var noiseRandom = new Random(random.Next());

            var mapping = IntensityNormalisation.Fit([NoisySample(image, scale, noise, _options.DataRange, noiseRandom)], _normalisation);
            noiseLevels[n] = (float)((noise?.Level ?? 0) * _options.DataRange / mapping.Scale);
            floors[n] = mapping.Normalise((float)mapping.Background);
            var clean = new float[p * p];
            var noisy = new float[p * p];
            for (var ch = 0; ch < c; ch++)
            {
                var source = series.Slices[Math.Clamp(slice + ch - k, 0, series.Slices.Count - 1)];
                CropRescaled(source, scale, x0, y0, p, clean);
                if (noise is null)
                    clean.CopyTo(noisy);
                else
                    noise.Apply(clean, noisy, _options.DataRange, noiseRandom);
                mapping.Normalise(noisy, inputs.AsSpan((n * c + ch) * p * p, p * p));
                if (ch == k && !selfSupervised)
                    mapping.Normalise(clean, targets.AsSpan(n * p * p, p * p));
            }
            if (selfSupervised)
                inputs.AsSpan((n * c + k) * p * p, p * p).CopyTo(targets.AsSpan(n * p * p, p * p));
            // Noise2Void: masked pixels get a random neighbour's value in the input, and only they count in the loss.
            if (mask is not null)
                BlindSpots(random, inputs.AsSpan((n * c + k) * p * p, p * p), mask.AsSpan(n * p * p, p * p), p);
            if (neighbours is not null)
                NeighbourSubsampler.Draw(random, p, neighbours.First.AsSpan(n * p * p / 4, p * p / 4), neighbours.Second.AsSpan(n * p * p / 4, p * p / 4));
        }
        return new PatchBatch(inputs, targets, mask, noiseLevels, floors, neighbours);
    }

    /// <summary>
    /// What the normalisation is fitted on, as at inference time: the slice's noisy intensities. Every
    /// other row and column (noise null: the slice is noisy already) is a sample with the same percentiles (the noise is independent per pixel)
    /// at a quarter of the cost: noising and sorting whole slices for every patch dominated a step.
    /// </summary>
    private static Image NoisySample(Image image, float scale, NoiseModel? noise, double dataRange, Random random)
    {
        int width = (image.Width + 1) / 2, height = (image.Height + 1) / 2;
        var clean = new float[width * height];
        for (var y = 0; y < height; y++)
            for (var x = 0; x < width; x++)
                clean[y * width + x] = MathF.Round(image.Pixels[2 * y * image.Width + 2 * x] * scale);
        if (noise is null)
            return new Image(width, height, clean);
        var noisy = new float[clean.Length];
        noise.Apply(clean, noisy, dataRange, random);
        return new Image(width, height, noisy);
    }

    private void BlindSpots(Random random, Span<float> input, Span<float> mask, int p)
    {
        var count = Math.Max(1, (int)(_options.BlindSpotFraction * p * p));
        var original = input.ToArray();
        for (var i = 0; i < count; i++)
        {
            int y = random.Next(p), x = random.Next(p), dy, dx;
            do
            {
                dy = random.Next(-2, 3);
                dx = random.Next(-2, 3);
            } while (dy == 0 && dx == 0);
            input[y * p + x] = original[Math.Clamp(y + dy, 0, p - 1) * p + Math.Clamp(x + dx, 0, p - 1)];
            mask[y * p + x] = 1;
        }
    }

    private (int X, int Y) PatchOrigin(Random random, int[] foreground, int width, int height, int p)
    {
        int cx, cy;
        if (foreground.Length > 0 && random.NextDouble() < _options.ForegroundBias)
        {
            var i = foreground[random.Next(foreground.Length)];
            (cx, cy) = (i % width, i / width);
        }
        else
        {
            (cx, cy) = (random.Next(width), random.Next(height));
        }
        return (Math.Clamp(cx - p / 2, 0, width - p), Math.Clamp(cy - p / 2, 0, height - p));
    }

    /// <summary>A patch of the clean slice rescaled and rounded to integers, as a stored series would hold them.</summary>
    private static void CropRescaled(Image image, float scale, int x0, int y0, int p, Span<float> destination)
    {
        for (var y = 0; y < p; y++)
        {
            var row = image.Pixels.AsSpan((y0 + y) * image.Width + x0, p);
            for (var x = 0; x < p; x++)
                destination[y * p + x] = MathF.Round(row[x] * scale);
        }
    }

    private static int Pick(Random random, double[] weights)
    {
        var r = random.NextDouble() * weights.Sum();
        for (var i = 0; i < weights.Length; i++)
        {
            r -= weights[i];
            if (r < 0)
                return i;
        }
        return weights.Length - 1;
    }
}
