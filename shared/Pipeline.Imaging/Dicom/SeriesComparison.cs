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
    /// Matches instances by slice position when every instance has Image Position/Orientation (within 1% of the slice
    /// spacing, at most 0.01 mm), else by Instance Number; every reference instance must find its partner.
    /// MSE, PSNR and SSIM use values after rescale and data range <paramref name="dataRange"/>
    /// (default 2^BitsStored - 1 of the reference). Means are plain means over instances (PSNR: +infinity if any is).
    /// </summary>
    public static SeriesMetrics Compare(IReadOnlyList<SeriesInstance> reference, IReadOnlyList<SeriesInstance> test, double? dataRange = null)
    {
        ArgumentNullException.ThrowIfNull(reference);
        ArgumentNullException.ThrowIfNull(test);
        if (reference.Count == 0 || test.Count == 0) throw new ArgumentException("both series need instances");
        var range = dataRange ?? DicomImages.DefaultDataRange(reference[0].Description);
        var (pairs, matchedBy) = Match(reference, test);
        var results = new InstanceMetrics[pairs.Count];
        Parallel.For(0, pairs.Count, i =>
        {
            var (r, t) = pairs[i];
            if (r.Image.Width != t.Image.Width || r.Image.Height != t.Image.Height)
                throw new InvalidDataException($"{r.Path} is {r.Image.Width}x{r.Image.Height} but {t.Path} is {t.Image.Width}x{t.Image.Height}");
            var mse = FidelityMetrics.Mse(r.Image, t.Image);
            results[i] = new InstanceMetrics(r.Path, t.Path, mse, FidelityMetrics.PsnrFromMse(mse, range), StructuralSimilarity.Mean(r.Image, t.Image, range));
        });
        return new SeriesMetrics(results, results.Average(m => m.Mse), results.Average(m => m.Psnr), results.Average(m => m.Ssim), range, matchedBy);
    }

    private static (List<(SeriesInstance Reference, SeriesInstance Test)> Pairs, string MatchedBy) Match(
        IReadOnlyList<SeriesInstance> reference, IReadOnlyList<SeriesInstance> test)
    {
        var pairs = new List<(SeriesInstance, SeriesInstance)>();
        if (reference.Concat(test).All(i => i.SlicePosition is not null))
        {
            var positions = reference.Select(i => i.SlicePosition!.Value).Order().ToArray();
            var spacing = positions.Length > 1 ? positions.Zip(positions.Skip(1), (a, b) => b - a).Where(d => d > 0).DefaultIfEmpty(1).Min() : 1;
            var tolerance = Math.Min(0.01, 0.01 * spacing);
            foreach (var r in reference)
            {
                var partner = test.Where(t => Math.Abs(t.SlicePosition!.Value - r.SlicePosition!.Value) <= tolerance).ToArray();
                if (partner.Length != 1)
                    throw new InvalidDataException($"{r.Path}: {partner.Length} test instances at slice position {r.SlicePosition:0.###} mm (need exactly 1)");
                pairs.Add((r, partner[0]));
            }
            return (pairs, "position");
        }
        if (reference.Concat(test).All(i => i.InstanceNumber is not null))
        {
            foreach (var r in reference)
            {
                var partner = test.Where(t => t.InstanceNumber == r.InstanceNumber).ToArray();
                if (partner.Length != 1)
                    throw new InvalidDataException($"{r.Path}: {partner.Length} test instances with instance number {r.InstanceNumber} (need exactly 1)");
                pairs.Add((r, partner[0]));
            }
            return (pairs, "instance-number");
        }
        throw new InvalidDataException("instances have neither Image Position/Orientation nor Instance Number on both sides: cannot match");
    }
}
