using Pipeline.Imaging.Metrics;

namespace Pipeline.Imaging.Dicom;

/// <summary>Full-reference metrics of one matched pair of instances.</summary>
public sealed record InstanceMetrics(string Reference, string Test, double Mse, double Psnr, double Ssim);

/// <summary>Per-instance metrics of a test series against a reference series, and their means.</summary>
/// <param name="DataRange">R used for PSNR and SSIM.</param>
/// <param name="MatchedBy">"position" (along the slice normal) or "instance-number".</param>
public sealed record SeriesMetrics(IReadOnlyList<InstanceMetrics> Instances, double MeanMse, double MeanPsnr, double MeanSsim, double DataRange, string MatchedBy);

/// <summary>Compares two series of the same anatomy instance by instance.</summary>
public static class SeriesComparison
{
    /// <summary>
    /// Matches instances with <see cref="SliceMatching.Match"/>; every reference instance must find its partner.
    /// MSE, PSNR and SSIM use values after rescale and data range <paramref name="dataRange"/>
    /// (default 2^BitsStored - 1 of the reference). Means are plain means over instances (PSNR: +infinity if any is).
    /// </summary>
    public static SeriesMetrics Compare(IReadOnlyList<SeriesInstance> reference, IReadOnlyList<SeriesInstance> test, double? dataRange = null)
    {
        ArgumentNullException.ThrowIfNull(reference);
        ArgumentNullException.ThrowIfNull(test);
        if (reference.Count == 0 || test.Count == 0) throw new ArgumentException("both series need instances");
        var range = dataRange ?? DicomImages.DefaultDataRange(reference[0].Description);
        var matching = SliceMatching.Match(reference, test, "test instances");
        var unmatched = matching.Matches.FirstOrDefault(m => m.Partner is null);
        if (unmatched is not null) throw new InvalidDataException($"{unmatched.Instance.Path}: {unmatched.Problem}");
        var results = new InstanceMetrics[matching.Matches.Count];
        Parallel.For(0, results.Length, i =>
        {
            var (r, t) = (matching.Matches[i].Instance, matching.Matches[i].Partner!);
            if (r.Image.Width != t.Image.Width || r.Image.Height != t.Image.Height)
                throw new InvalidDataException($"{r.Path} is {r.Image.Width}x{r.Image.Height} but {t.Path} is {t.Image.Width}x{t.Image.Height}");
            var (mse, psnr, ssim) = Measure(r.Image, t.Image, range);
            results[i] = new InstanceMetrics(r.Path, t.Path, mse, psnr, ssim);
        });
        return new SeriesMetrics(results, results.Average(m => m.Mse), results.Average(m => m.Psnr), results.Average(m => m.Ssim), range, matching.MatchedBy);
    }

    /// <summary>MSE, PSNR and mean SSIM of one image against its reference (same size) at data range <paramref name="dataRange"/>.</summary>
    public static (double Mse, double Psnr, double Ssim) Measure(Image reference, Image test, double dataRange)
    {
        var mse = FidelityMetrics.Mse(reference, test);
        return (mse, FidelityMetrics.PsnrFromMse(mse, dataRange), StructuralSimilarity.Mean(reference, test, dataRange));
    }
}
