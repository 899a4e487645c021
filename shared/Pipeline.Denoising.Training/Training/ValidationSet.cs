using System.Globalization;
using Pipeline.Denoising.Inference;
using Pipeline.Denoising.Models;
using Pipeline.Imaging;
using Pipeline.Imaging.Metrics;
using Pipeline.Imaging.Noise;
using Pipeline.Imaging.Normalisation;

namespace Pipeline.Denoising.Training.Training;

/// <summary>
/// Fixed, seeded held-out cases: each validation series at a dim and a bright scaling and at four
/// noise levels across the trained range, denoised through the same code path as inference
/// (<see cref="SeriesDenoiser"/>) and scored in physical units with the data range.
/// </summary>
internal sealed class ValidationSet
{
    private readonly List<Case> _cases = [];
    private readonly double _dataRange;
    private readonly NormalisationOptions _normalisation;

    private sealed record Case(string Noise, double Peak, Image[] Clean, Image[] Noisy, int First, int Count, double NoisyPsnr, double NoisySsim);

    public ValidationSet(TrainingOptions options, IReadOnlyList<TrainingSeries> series, NormalisationOptions normalisation, int maxSlices = 8)
    {
        _dataRange = options.DataRange;
        _normalisation = normalisation;
        var noiseType = options.NoiseTypes[0];
        double[] peaks = [Math.Max(options.MinPeak, 0.3), Math.Min(options.MaxPeak, 0.9)];
        var levels = Enumerable.Range(0, 4).Select(i => options.MinLevel + (options.MaxLevel - options.MinLevel) * (i + 0.5) / 4).ToArray();
        var caseSeed = options.Seed ^ 0x5EED;
        foreach (var s in series)
        {
            // Scored slices: up to maxSlices in the middle of the series, with one context slice each side.
            var count = Math.Min(maxSlices, s.Slices.Count);
            var first = (s.Slices.Count - count) / 2;
            var lo = Math.Max(0, first - options.Architecture.ContextSlices);
            var hi = Math.Min(s.Slices.Count - 1, first + count - 1 + options.Architecture.ContextSlices);
            foreach (var peak in peaks)
            {
                var scale = (float)(peak * options.DataRange / s.Peak);
                var clean = s.Slices.Skip(lo).Take(hi - lo + 1)
                    .Select(im => im.With(im.Pixels.Select(v => MathF.Round(v * scale)).ToArray())).ToArray();
                foreach (var level in levels)
                {
                    var noise = NoiseModel.Parse(string.Create(CultureInfo.InvariantCulture, $"{noiseType}:{level}"));
                    var noisy = clean.Select((im, i) => noise.Apply(im, options.DataRange, NoiseModel.SliceSeed(caseSeed++, i))).ToArray();
                    var (psnr, ssim) = Score(clean, noisy, first - lo, count);
                    _cases.Add(new Case(noise.ToString(), peak, clean, noisy, first - lo, count, psnr, ssim));
                }
            }
        }
    }

    public ValidationRecord Evaluate(IDenoisingEngine engine)
    {
        var denoiser = new SeriesDenoiser(engine, _normalisation);
        var levels = new List<LevelFigures>();
        double mse = 0;
        foreach (var c in _cases)
        {
            var denoised = denoiser.Denoise(c.Noisy);
            var (psnr, ssim) = Score(c.Clean, denoised, c.First, c.Count);
            for (var i = c.First; i < c.First + c.Count; i++)
                mse += FidelityMetrics.Mse(c.Clean[i], denoised[i]) / (_dataRange * _dataRange) / c.Count / _cases.Count;
            levels.Add(new LevelFigures(c.Noise, c.Peak, c.NoisyPsnr, c.NoisySsim, psnr, ssim));
        }
        return new ValidationRecord(mse, levels.Average(l => l.Psnr), levels.Average(l => l.Ssim),
            levels.Average(l => l.NoisyPsnr), levels.Average(l => l.NoisySsim), levels);
    }

    private (double Psnr, double Ssim) Score(Image[] clean, IReadOnlyList<Image> test, int first, int count)
    {
        double psnr = 0, ssim = 0;
        for (var i = first; i < first + count; i++)
        {
            psnr += FidelityMetrics.Psnr(clean[i], test[i], _dataRange) / count;
            ssim += StructuralSimilarity.Mean(clean[i], test[i], _dataRange) / count;
        }
        return (psnr, ssim);
    }
}
