using Pipeline.Contracts;
using Pipeline.Denoising.Evaluation;
using Pipeline.Promotion;

namespace Pipeline.Evaluation.Scoring;

/// <summary>
/// The JSON report at <see cref="BucketLayout.ModelScore"/>: the protocol's figures of the noisy input, the candidate and
/// the baseline on every case (scaling and noise level), and the candidate's gains over the baseline. No wall-clock time.
/// </summary>
/// <param name="Slices">Indices of the scored slices in the held-out volume.</param>
/// <param name="HeadPeak">The head's 99.5th percentile that the scalings mapped.</param>
/// <param name="Figures">Mean whole-slice PSNR (dB) and SSIM per method ("noisy", "candidate", "baseline") and case.</param>
/// <param name="Gains">Candidate minus baseline per case (absent without a baseline).</param>
/// <param name="Pairs">Candidate and baseline figures per case and slice, the promotion gate's input (absent without a baseline).</param>
/// <param name="Summary">What EvaluationCompleted carries (see the service README).</param>
internal sealed record ModelScoreReport(
    Guid RequestId,
    string CandidateModelVersion,
    string? BaselineModelVersion,
    ObjectRef HeldOutSet,
    string HeldOutSetName,
    double DataRange,
    IReadOnlyList<int> Slices,
    double HeadPeak,
    IReadOnlyList<CaseFigures> Figures,
    IReadOnlyList<CaseGain>? Gains,
    IReadOnlyList<SlicePair>? Pairs,
    IReadOnlyDictionary<string, double> Summary)
{
    public int ContractVersion { get; init; } = Contracts.ContractVersion.Current;

    internal static ModelScoreReport From(EvaluationRequested request, HeldOutSet set, double dataRange, QualityReport scored)
    {
        var figures = scored.Figures.Select(f => new CaseFigures(f.Method, f.Scaling, f.Noise, f.Psnr, f.Ssim)).ToList();
        List<CaseGain>? gains = null;
        List<SlicePair>? pairs = null;
        if (request.BaselineModelVersion is not null)
        {
            var cases = scored.Figures.Where(f => f.Method == ModelScorer.Candidate)
                .Select(c => (Candidate: c, Baseline: scored.Figures.Single(f => f.Method == ModelScorer.Baseline && f.Scaling == c.Scaling && f.Noise == c.Noise)))
                .ToList();
            gains = [.. cases.Select(p => new CaseGain(p.Candidate.Scaling, p.Candidate.Noise, p.Candidate.Psnr - p.Baseline.Psnr, p.Candidate.Ssim - p.Baseline.Ssim))];
            pairs = [.. cases.SelectMany(p => scored.Slices.Select((slice, i) => new SlicePair(p.Candidate.Scaling, p.Candidate.Noise, slice,
                p.Candidate.SlicePsnr[i], p.Candidate.SliceSsim[i], p.Baseline.SlicePsnr[i], p.Baseline.SliceSsim[i])))];
        }

        // Insertion order is the report's order: the same request gives the same bytes.
        var summary = new Dictionary<string, double>
        {
            ["cases"] = figures.Count(f => f.Method == ModelScorer.Candidate),
            ["slices"] = scored.Slices.Count,
        };
        foreach (var method in figures.Select(f => f.Method).Distinct())
        {
            var own = figures.Where(f => f.Method == method).ToList();
            summary[$"{method}_psnr_mean"] = own.Average(f => f.Psnr);
            summary[$"{method}_ssim_mean"] = own.Average(f => f.Ssim);
            foreach (var f in own)
            {
                summary[$"{method}_psnr/{f.Scaling}/{f.Noise}"] = f.Psnr;
                summary[$"{method}_ssim/{f.Scaling}/{f.Noise}"] = f.Ssim;
            }
        }
        if (gains is { Count: > 0 })
        {
            summary["psnr_gain_min"] = gains.Min(g => g.PsnrGain);
            summary["psnr_gain_mean"] = gains.Average(g => g.PsnrGain);
            summary["ssim_gain_min"] = gains.Min(g => g.SsimGain);
            summary["ssim_gain_mean"] = gains.Average(g => g.SsimGain);
        }
        foreach (var key in summary.Where(p => !double.IsFinite(p.Value)).Select(p => p.Key).ToList())
            summary.Remove(key); // JSON has no infinity; identical images are not a realistic score anyway
        return new ModelScoreReport(request.RequestId, request.CandidateModelVersion, request.BaselineModelVersion, request.HeldOutSet,
            set.Name, dataRange, scored.Slices, scored.HeadPeak, figures, gains, pairs, summary);
    }
}

/// <summary>Mean PSNR (dB) and SSIM of one method on one case.</summary>
/// <param name="Noise">Noise spec, e.g. "rician:0.05".</param>
internal sealed record CaseFigures(string Method, string Scaling, string Noise, double Psnr, double Ssim);

/// <summary>Candidate minus baseline on one case.</summary>
internal sealed record CaseGain(string Scaling, string Noise, double PsnrGain, double SsimGain);
