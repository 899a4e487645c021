using System.Globalization;

namespace Pipeline.Promotion.Tests;

/// <summary>The promotion gate: paired bootstrap intervals checked against scipy, and cases that must promote or reject.</summary>
public sealed class PromotionGateTests
{
    private static readonly GateOptions Options = new() { PsnrMarginDb = 0.25, SsimTolerance = 0.002 };

    /// <summary>
    /// Per-slice pairs of one case: the baseline varies by slice (slice difficulty), the candidate adds the given PSNR and
    /// SSIM gains to it. The gate sees only pairs, so the slice spread must cancel.
    /// </summary>
    private static List<SlicePair> Pairs(string noise, double[] psnrGains, double[] ssimGains) =>
        [.. psnrGains.Select((g, i) =>
        {
            var (psnr, ssim) = (28 + 3 * Math.Sin(i), 0.80 + 0.05 * Math.Cos(i));
            return new SlicePair("bright", noise, 10 + i, psnr + g, ssim + ssimGains[i], psnr, ssim);
        })];

    private static double[] Around(double mean, double spread, int n, int seed)
    {
        var random = new Random(seed);
        return [.. Enumerable.Range(0, n).Select(_ => mean + spread * (random.NextDouble() * 2 - 1))];
    }

    [Fact]
    public void The_bootstrap_interval_agrees_with_scipy_percentile_bootstrap_on_the_same_paired_differences()
    {
        // Requirement: the interval the gate trusts is the textbook 95 % percentile bootstrap of the mean, as scipy computes it
        // (independent code and random numbers; 200,000 resamples there, so the difference is our Monte Carlo error).
        var gains = Around(0.4, 1.2, 24, seed: 3);
        var ours = PromotionGate.Bootstrap([gains], 10_000, 0.95, seed: 19)[0];

        var script = """
            import sys, numpy as np
            from scipy.stats import bootstrap
            d = np.array([float(x) for x in sys.argv[1].split(',')])
            ci = bootstrap((d,), np.mean, confidence_level=0.95, n_resamples=200000, method='percentile', random_state=1).confidence_interval
            print(d.mean(), ci.low, ci.high)
            """;
        var reference = ExternalTool.Ok("/usr/bin/python3", "-c", script, string.Join(',', gains.Select(g => g.ToString("R", CultureInfo.InvariantCulture))))
            .Split(' ', StringSplitOptions.TrimEntries).Select(s => double.Parse(s, CultureInfo.InvariantCulture)).ToArray();

        Assert.Equal(reference[0], ours.Mean, 12);
        var width = reference[2] - reference[1];
        Assert.InRange(ours.Lower, reference[1] - 0.02 * width, reference[1] + 0.02 * width);
        Assert.InRange(ours.Upper, reference[2] - 0.02 * width, reference[2] + 0.02 * width);
    }

    [Fact]
    public void The_bootstrap_interval_of_constant_differences_is_that_constant_and_the_verdict_is_reproducible()
    {
        // Requirement: a seeded gate gives the same verdict for the same scores, whatever order they arrive in.
        var constant = PromotionGate.Bootstrap([[0.5, 0.5, 0.5, 0.5, 0.5]], 1000, 0.95, seed: 1)[0];
        Assert.Equal(new Interval(0.5, 0.5, 0.5), constant);

        var pairs = Pairs("rician:0.05", Around(0.6, 0.8, 16, 5), Around(0.004, 0.004, 16, 6));
        var first = PromotionGate.Decide(pairs, Options);
        var again = PromotionGate.Decide([.. Enumerable.Reverse(pairs)], Options);
        Assert.Equal(first.Cases.Single().PsnrGain, again.Cases.Single().PsnrGain);
        Assert.Equal(first.Reason, again.Reason);
    }

    [Fact]
    public void A_candidate_clearly_better_on_every_case_is_promoted()
    {
        // Requirement: a candidate better by a margin with evidence, and not worse in SSIM, on every case, is promoted.
        var pairs = Pairs("rician:0.03", Around(0.9, 0.3, 12, 1), Around(0.01, 0.005, 12, 2))
            .Concat(Pairs("rician:0.08", Around(1.4, 0.5, 12, 3), Around(0.02, 0.005, 12, 4))).ToList();

        var verdict = PromotionGate.Decide(pairs, Options);

        Assert.True(verdict.Promote, verdict.Reason);
        Assert.Equal(2, verdict.Cases.Count);
        Assert.All(verdict.Cases, c => Assert.True(c.PsnrGain.Lower > 0.25 && c.SsimGain.Lower > -0.002));
    }

    [Fact]
    public void A_crippled_candidate_is_rejected_naming_the_cases_and_the_interval()
    {
        // Requirement: a candidate worse than the current model (e.g. trained one step) never passes.
        var pairs = Pairs("rician:0.05", Around(-4, 1, 10, 7), Around(-0.2, 0.05, 10, 8));

        var verdict = PromotionGate.Decide(pairs, Options);

        Assert.False(verdict.Promote);
        Assert.Contains("bright/rician:0.05", verdict.Reason, StringComparison.Ordinal);
        Assert.Contains("lower bound not above the margin 0.25 dB", verdict.Reason, StringComparison.Ordinal);
        Assert.Contains("tolerance 0.002", verdict.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_candidate_better_on_average_whose_interval_crosses_the_margin_is_rejected()
    {
        // Requirement: a mean gain above the margin is not enough; the lower bound of the 95 % interval must be above it.
        // Half the slices gain 2 dB, half lose 0.8 dB: mean +0.6 dB > 0.25 dB, but the interval reaches below the margin.
        var gains = Enumerable.Range(0, 12).Select(i => i % 2 == 0 ? 2.0 : -0.8).ToArray();
        var pairs = Pairs("rician:0.05", gains, [.. gains.Select(_ => 0.01)]);

        var verdict = PromotionGate.Decide(pairs, Options);

        var only = verdict.Cases.Single();
        Assert.True(only.PsnrGain.Mean > Options.PsnrMarginDb);
        Assert.True(only.PsnrGain.Lower < Options.PsnrMarginDb);
        Assert.False(verdict.Promote, verdict.Reason);
    }

    [Fact]
    public void A_candidate_better_in_PSNR_but_possibly_worse_in_SSIM_or_at_one_noise_level_is_rejected()
    {
        // Requirement: "not worse in SSIM" and "better at every noise level" are part of the gate, not averaged away.
        // The mean SSIM loss is below the tolerance, but the interval's upper bound of the loss is not.
        var ssimWorse = PromotionGate.Decide(Pairs("rician:0.05", Around(1.0, 0.2, 12, 1), [.. Enumerable.Range(0, 12).Select(i => i % 2 == 0 ? 0.009 : -0.010)]), Options);
        Assert.True(-ssimWorse.Cases.Single().SsimGain.Mean < Options.SsimTolerance);
        Assert.False(ssimWorse.Promote);
        Assert.Contains("SSIM gain", ssimWorse.Reason, StringComparison.Ordinal);

        var oneLevelWorse = PromotionGate.Decide(
            [.. Pairs("rician:0.03", Around(2.0, 0.2, 12, 3), Around(0.01, 0.002, 12, 4)),
             .. Pairs("rician:0.08", Around(-0.3, 0.2, 12, 5), Around(0.01, 0.002, 12, 6))], Options);
        Assert.False(oneLevelWorse.Promote);
        Assert.StartsWith("rejected on 1 of 2 cases: bright/rician:0.08", oneLevelWorse.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Too_little_or_unusable_evidence_is_rejected_with_the_reason()
    {
        // Requirement: no evidence, no promotion: an empty set, too few slices, a duplicated slice or a non-finite score.
        Assert.Equal("rejected: no paired held-out scores", PromotionGate.Decide([], Options).Reason);
        Assert.Contains("3 paired slices, at least 5 needed", PromotionGate.Decide(Pairs("g", [3, 3, 3], [0, 0, 0]), Options).Reason, StringComparison.Ordinal);
        var pairs = Pairs("g", [3, 3, 3, 3, 3, 3], [0, 0, 0, 0, 0, 0]);
        Assert.Contains("slice 10 is scored more than once", PromotionGate.Decide([.. pairs, pairs[0]], Options).Reason, StringComparison.Ordinal);
        pairs[2] = pairs[2] with { CandidatePsnr = double.PositiveInfinity };
        Assert.Contains("slice 12 has a non-finite score", PromotionGate.Decide(pairs, Options).Reason, StringComparison.Ordinal);
    }
}
