using Pipeline.Denoising.Baselines;
using Pipeline.Imaging;
using Pipeline.Imaging.Metrics;

namespace Pipeline.Denoising.Evaluation;

/// <summary>
/// Mean whole-slice PSNR (dB) and SSIM of one method on one case (scaling and noise level), and each slice's, in the
/// order of <see cref="QualityReport.Slices"/> (paired comparisons of two methods need them).
/// </summary>
public sealed record QualityFigures(string Method, string Scaling, string Noise, double Level, double Psnr, double Ssim,
    IReadOnlyList<double> SlicePsnr, IReadOnlyList<double> SliceSsim);

/// <summary>What an evaluation scored: the slices, the head peak the scalings mapped, and every method's figures.</summary>
public sealed record QualityReport(IReadOnlyList<int> Slices, double HeadPeak, IReadOnlyList<QualityFigures> Figures)
{
    /// <summary>The name the noisy input is reported under.</summary>
    public const string Noisy = "noisy";
}

/// <summary>
/// Runs the protocol: every method denoises every case's scored slices (each with its own context) and is scored
/// against the clean slice with the protocol's data range. Thread-safe methods run slices in parallel.
/// </summary>
public static class QualityEvaluation
{
    public static QualityReport Run(Volume volume, IReadOnlyList<Imaging.Noise.NoiseModel> levels, IReadOnlyList<ISeriesDenoiser> methods,
        QualityProtocolOptions? options = null, IProgress<string>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(volume);
        ArgumentNullException.ThrowIfNull(methods);
        options ??= new QualityProtocolOptions();
        var slices = QualityProtocol.SelectSlices(volume, options);
        var context = methods.Select(m => m.ContextSlices).DefaultIfEmpty(0).Max();
        var cases = QualityProtocol.Cases(volume, levels, slices, context, options);
        var figures = new List<QualityFigures>();
        foreach (var c in cases)
        {
            figures.Add(Score(QualityReport.Noisy, c, slices, k => c.Noisy[k], options.DataRange));
            foreach (var method in methods)
            {
                progress?.Report($"{method.Name} {c.Scaling.Name} {c.Noise}");
                var denoised = new Image[slices.Length];
                void DenoiseOne(int i)
                {
                    var stack = QualityProtocol.Stack(c.Noisy, slices[i], method.ContextSlices, volume.Depth);
                    denoised[i] = method.Denoise(stack)[method.ContextSlices];
                }
                if (method.ThreadSafe)
                    Parallel.For(0, slices.Length, DenoiseOne);
                else
                    for (var i = 0; i < slices.Length; i++)
                        DenoiseOne(i);
                var byIndex = slices.Select((k, i) => (k, i)).ToDictionary(p => p.k, p => denoised[p.i]);
                figures.Add(Score(method.Name, c, slices, k => byIndex[k], options.DataRange));
            }
        }
        return new QualityReport(slices, QualityProtocol.HeadPeak(volume, options), figures);
    }

    private static QualityFigures Score(string method, QualityCase c, int[] slices, Func<int, Image> test, double range)
    {
        var psnr = new double[slices.Length];
        var ssim = new double[slices.Length];
        Parallel.For(0, slices.Length, i => (psnr[i], ssim[i]) = ScoreSlice(c.Clean[slices[i]], test(slices[i]), range));
        return new QualityFigures(method, c.Scaling.Name, c.Noise.ToString(), c.Noise.Level, psnr.Average(), ssim.Average(), psnr, ssim);
    }

    /// <summary>The protocol's score of one slice: whole-slice PSNR (dB) and SSIM against the clean slice.</summary>
    internal static (double Psnr, double Ssim) ScoreSlice(Image clean, Image test, double range) =>
        (FidelityMetrics.Psnr(clean, test, range), StructuralSimilarity.Mean(clean, test, range));
}
