using System.Diagnostics;
using System.Globalization;
using Pipeline.Imaging;
using Pipeline.Imaging.Metrics;
using Pipeline.Imaging.Nifti;
using Pipeline.Imaging.Noise;
using Pipeline.Imaging.Normalisation;
using Pipeline.Imaging.Pictures;

namespace Pipeline.Benchmarks;

/// <summary>
/// Imaging figures for the README: speed of the per-slice functions on 512x512, accuracy of the noise estimates at
/// known added noise on real MRI (Colin27), PSNR/SSIM by noise level, and the chart and montage pictures.
/// </summary>
public sealed class ImagingBenchmark : IBenchmark
{
    public string Name => "imaging";
    public string Description => "metric/noise speed on 512x512; noise-estimate accuracy and PSNR/SSIM by level on Colin27 [--pictures DIR]";

    public Task<int> RunAsync(string[] args)
    {
        var pictures = args.Length >= 2 && args[0] == "--pictures" ? args[1] : null;
        var colin = NiftiReader.Read("/usr/share/mricron/templates/ch2.nii.gz").Volume;
        Speed();
        Accuracy(colin, pictures);
        return Task.FromResult(0);
    }

    private static void Speed()
    {
        Console.WriteLine("## Speed, one 512x512 slice (median of 15 runs after 3 warm-ups)");
        var random = new Random(1);
        var clean = new Image(512, 512, Enumerable.Range(0, 512 * 512).Select(_ => (float)(random.NextDouble() * 4095)).ToArray());
        var noisy = new RicianNoise(0.05).Apply(clean, 4095, 1);
        var normalisation = IntensityNormalisation.Fit([noisy]);
        (string, Action)[] cases =
        [
            ("MSE + PSNR", () => FidelityMetrics.Psnr(clean, noisy, 4095)),
            ("SSIM (mean)", () => StructuralSimilarity.Mean(clean, noisy, 4095)),
            ("SSIM + map", () => StructuralSimilarity.Compute(clean, noisy, 4095)),
            ("Rician noise", () => new RicianNoise(0.05).Apply(clean, 4095, 2)),
            ("Poisson noise", () => new PoissonNoise(0.05).Apply(clean, 4095, 2)),
            ("no-reference estimate (MAD)", () => NoiseEstimator.Estimate(noisy)),
            ("Rician sigma (background)", () => RicianStatistics.EstimateSigma(noisy)),
            ("normalise + denormalise", () => normalisation.Denormalise(normalisation.Normalise(noisy))),
        ];
        foreach (var (name, action) in cases)
        {
            for (var i = 0; i < 3; i++) action();
            var times = new double[15];
            for (var i = 0; i < times.Length; i++)
            {
                var watch = Stopwatch.StartNew();
                action();
                times[i] = watch.Elapsed.TotalMilliseconds;
            }
            Array.Sort(times);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {name,-30} {times[7],8:F2} ms"));
        }
    }

    private static void Accuracy(Volume colin, string? pictures)
    {
        const double range = 255;
        var slices = Enumerable.Range(0, 11).Select(i => 40 + 10 * i).ToArray();
        double[] levels = [0.02, 0.05, 0.1, 0.15, 0.2];
        Console.WriteLine();
        Console.WriteLine("## Noise estimates / true sigma on Colin27 slices 40..140 step 10 (range 255): mean [min, max]");
        Console.WriteLine("  level  gaussian: MAD-Laplacian      Immerkaer            rician: background sigma   (source)");
        var noisyCurve = new List<QualityPoint>();
        var correctedCurve = new List<QualityPoint>();
        foreach (var level in levels)
        {
            var sigma = level * range;
            var mad = new List<double>();
            var immerkaer = new List<double>();
            var rician = new List<double>();
            var sources = new HashSet<SigmaSource>();
            double psnr = 0, ssim = 0, psnrCorrected = 0, ssimCorrected = 0;
            foreach (var k in slices)
            {
                var clean = colin.Slices[k];
                var gaussian = new GaussianNoise(level).Apply(clean, range, k);
                mad.Add(NoiseEstimator.Estimate(gaussian) / sigma);
                immerkaer.Add(NoiseEstimator.Immerkaer(gaussian) / sigma);
                var noisy = new RicianNoise(level).Apply(clean, range, k);
                var estimate = RicianStatistics.EstimateSigma(noisy);
                rician.Add(estimate.Sigma / sigma);
                sources.Add(estimate.Source);
                var corrected = RicianStatistics.CorrectBias(noisy, estimate.Sigma);
                psnr += FidelityMetrics.Psnr(clean, noisy, range) / slices.Length;
                ssim += StructuralSimilarity.Mean(clean, noisy, range) / slices.Length;
                psnrCorrected += FidelityMetrics.Psnr(clean, corrected, range) / slices.Length;
                ssimCorrected += StructuralSimilarity.Mean(clean, corrected, range) / slices.Length;
            }
            noisyCurve.Add(new QualityPoint(level, psnr, ssim));
            correctedCurve.Add(new QualityPoint(level, psnrCorrected, ssimCorrected));
            static string Stats(List<double> r) => string.Create(CultureInfo.InvariantCulture, $"{r.Average():F3} [{r.Min():F3}, {r.Max():F3}]");
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {level,5:F2}  {Stats(mad),-26} {Stats(immerkaer),-20} {Stats(rician),-26} ({string.Join(",", sources)})"));
        }
        Console.WriteLine();
        Console.WriteLine("## Rician noise on Colin27 (same slices): mean PSNR (dB) / SSIM vs clean, noisy and after bias correction");
        for (var i = 0; i < levels.Length; i++)
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {levels[i],5:F2}  noisy {noisyCurve[i].Psnr,6:F2} / {noisyCurve[i].Ssim:F4}   corrected {correctedCurve[i].Psnr,6:F2} / {correctedCurve[i].Ssim:F4}"));

        if (pictures is null) return;
        Directory.CreateDirectory(pictures);
        File.WriteAllBytes(Path.Combine(pictures, "quality-by-noise-level.png"), QualityChart.Render(
            [new QualityCurve("rician noisy", noisyCurve), new QualityCurve("rician bias corrected", correctedCurve)],
            "COLIN27, RICIAN NOISE: QUALITY BY LEVEL"));
        var slab = colin.Slab(40, 101);
        File.WriteAllBytes(Path.Combine(pictures, "montage-rician-0.1.png"),
            SeriesMontage.Render(new RicianNoise(0.1).Apply(slab, range, 1), slab));
        Console.WriteLine($"pictures written to {pictures}");
    }
}
