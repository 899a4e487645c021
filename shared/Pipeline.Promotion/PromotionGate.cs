namespace Pipeline.Promotion;

/// <summary>The gate's settings (configuration section "Promotion" where a service reads them).</summary>
public sealed record GateOptions
{
    /// <summary>The candidate must beat the baseline by more than this many dB of mean PSNR, with confidence.</summary>
    public double PsnrMarginDb { get; init; } = 0.1;

    /// <summary>
    /// "Not worse in SSIM": the upper bound of the confidence interval of the mean SSIM loss (baseline minus candidate)
    /// must stay below this; 0 would ask for an SSIM gain proven by the data.
    /// </summary>
    public double SsimTolerance { get; init; } = 0.002;

    /// <summary>Two-sided confidence of the intervals.</summary>
    public double Confidence { get; init; } = 0.95;

    /// <summary>Bootstrap resamples per case: 10,000 keep the Monte Carlo error of a 95 % bound near 1 % of the interval's width.</summary>
    public int Resamples { get; init; } = 10_000;

    /// <summary>Seed of the resampling: the same scores and settings give the same verdict, byte for byte.</summary>
    public int Seed { get; init; } = 19;

    /// <summary>Fewer paired slices than this per case is too little evidence: rejected.</summary>
    public int MinSlices { get; init; } = 5;
}

/// <summary>A mean and its bootstrap confidence interval.</summary>
public sealed record Interval(double Mean, double Lower, double Upper);

/// <summary>The gate on one case: candidate-minus-baseline gains with their intervals, and whether the case passed.</summary>
public sealed record CaseVerdict(string Scaling, string Noise, int Slices, Interval PsnrGain, Interval SsimGain, bool Passed, string Reason);

/// <summary>The gate's answer: promote or not, why, and the evidence per case.</summary>
public sealed record GateVerdict(bool Promote, string Reason, GateOptions Options, IReadOnlyList<CaseVerdict> Cases);

/// <summary>
/// Promotes a candidate only when it is better with evidence, on every case: per held-out slice, paired, the lower bound
/// of the percentile bootstrap confidence interval of the mean PSNR gain is above the margin AND the upper bound of the
/// interval of the mean SSIM loss is below the tolerance. Every case must pass, so a candidate better on average but
/// worse at one noise level is rejected. Anything else (too few slices, a non-finite score) rejects too: no evidence, no
/// promotion.
/// </summary>
public static class PromotionGate
{
    public static GateVerdict Decide(IReadOnlyList<SlicePair> pairs, GateOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(pairs);
        options ??= new GateOptions();
        if (pairs.Count == 0)
            return new GateVerdict(false, "rejected: no paired held-out scores", options, []);
        var cases = pairs.GroupBy(p => (p.Scaling, p.Noise)).Select(g => Case(g.Key.Scaling, g.Key.Noise, [.. g], options)).ToList();
        var failed = cases.Where(c => !c.Passed).ToList();
        var reason = failed.Count == 0
            ? $"promoted: on all {cases.Count} cases the {options.Confidence:P0} lower bound of the mean PSNR gain is above {options.PsnrMarginDb:0.###} dB and the SSIM loss stays below {options.SsimTolerance:0.####}"
            : $"rejected on {failed.Count} of {cases.Count} cases: " + string.Join("; ", failed.Select(c => $"{c.Scaling}/{c.Noise}: {c.Reason}"));
        return new GateVerdict(failed.Count == 0, reason, options, cases);
    }

    /// <summary>
    /// Percentile bootstrap confidence intervals of the means of paired columns: every resample draws one set of row
    /// indices (with replacement) used for every column, so the columns stay paired. Quantiles interpolate linearly
    /// between order statistics (numpy's default). Seeded: reproducible.
    /// </summary>
    public static Interval[] Bootstrap(IReadOnlyList<double[]> columns, int resamples, double confidence, int seed)
    {
        ArgumentNullException.ThrowIfNull(columns);
        ArgumentOutOfRangeException.ThrowIfLessThan(resamples, 1);
        if (confidence is <= 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(confidence), "a confidence is between 0 and 1");
        var n = columns[0].Length;
        if (n == 0 || columns.Any(c => c.Length != n)) throw new ArgumentException("columns must be non-empty and of equal length", nameof(columns));

        var state = (ulong)seed; // SplitMix64: our own generator, so a verdict reproduces on any runtime version
        var means = columns.Select(_ => new double[resamples]).ToArray();
        var sums = new double[columns.Count];
        for (var r = 0; r < resamples; r++)
        {
            Array.Clear(sums);
            for (var i = 0; i < n; i++)
            {
                var row = (int)Math.BigMul(SplitMix64(ref state), (ulong)n, out _); // uniform in [0, n)
                for (var c = 0; c < columns.Count; c++) sums[c] += columns[c][row];
            }
            for (var c = 0; c < columns.Count; c++) means[c][r] = sums[c] / n;
        }
        var alpha = (1 - confidence) / 2;
        return [.. columns.Select((column, c) =>
        {
            Array.Sort(means[c]);
            return new Interval(column.Average(), Quantile(means[c], alpha), Quantile(means[c], 1 - alpha));
        })];
    }

    private static CaseVerdict Case(string scaling, string noise, List<SlicePair> pairs, GateOptions options)
    {
        var nan = new Interval(double.NaN, double.NaN, double.NaN);
        if (pairs.Count < options.MinSlices)
            return new CaseVerdict(scaling, noise, pairs.Count, nan, nan, false, $"{pairs.Count} paired slices, at least {options.MinSlices} needed");
        if (pairs.GroupBy(p => p.Slice).FirstOrDefault(g => g.Count() > 1) is { } twice)
            return new CaseVerdict(scaling, noise, pairs.Count, nan, nan, false, $"slice {twice.Key} is scored more than once");
        if (pairs.FirstOrDefault(p => !double.IsFinite(p.CandidatePsnr + p.CandidateSsim + p.BaselinePsnr + p.BaselineSsim)) is { } bad)
            return new CaseVerdict(scaling, noise, pairs.Count, nan, nan, false, $"slice {bad.Slice} has a non-finite score");

        var ordered = pairs.OrderBy(p => p.Slice).ToList(); // the verdict does not depend on the order the pairs came in
        var intervals = Bootstrap(
            [[.. ordered.Select(p => p.CandidatePsnr - p.BaselinePsnr)], [.. ordered.Select(p => p.CandidateSsim - p.BaselineSsim)]],
            options.Resamples, options.Confidence, options.Seed);
        var (psnr, ssim) = (intervals[0], intervals[1]);
        var ci = $"{options.Confidence:P0} CI";
        string? psnrFail = psnr.Lower > options.PsnrMarginDb ? null
            : $"PSNR gain {psnr.Mean:0.000} dB, {ci} [{psnr.Lower:0.000}, {psnr.Upper:0.000}]: lower bound not above the margin {options.PsnrMarginDb:0.###} dB";
        string? ssimFail = -ssim.Lower < options.SsimTolerance ? null
            : $"SSIM gain {ssim.Mean:0.0000}, {ci} [{ssim.Lower:0.0000}, {ssim.Upper:0.0000}]: the loss may reach {-ssim.Lower:0.0000}, tolerance {options.SsimTolerance:0.####}";
        var reason = string.Join("; ", new[] { psnrFail, ssimFail }.OfType<string>());
        return new CaseVerdict(scaling, noise, pairs.Count, psnr, ssim, reason.Length == 0,
            reason.Length == 0 ? $"PSNR gain {ci} [{psnr.Lower:0.000}, {psnr.Upper:0.000}] dB, SSIM gain {ci} [{ssim.Lower:0.0000}, {ssim.Upper:0.0000}]" : reason);
    }

    private static ulong SplitMix64(ref ulong state)
    {
        var z = state += 0x9E3779B97F4A7C15;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EB;
        return z ^ (z >> 31);
    }

    /// <summary>Linear interpolation between the order statistics of <paramref name="sorted"/> (numpy's "linear" method).</summary>
    private static double Quantile(double[] sorted, double p)
    {
        var h = (sorted.Length - 1) * p;
        var low = (int)Math.Floor(h);
        var high = Math.Min(low + 1, sorted.Length - 1);
        return sorted[low] + (h - low) * (sorted[high] - sorted[low]);
    }
}
