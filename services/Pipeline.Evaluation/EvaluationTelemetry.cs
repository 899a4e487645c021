using Pipeline.Contracts;
using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Pipeline.Evaluation;

/// <summary>
/// The evaluation's span source and metrics (one observation per evaluated series). Tags: modality and model version
/// only, never patient data. Noise sigmas are in percent of the data range so modalities share one scale.
/// </summary>
internal static class EvaluationTelemetry
{
    public const string Name = "Pipeline.Evaluation";

    public static readonly ActivitySource Source = new(Name);
    private static readonly Meter Meter = new(Name);

    private static readonly Counter<long> Series = Meter.CreateCounter<long>(
        "pipeline.evaluation.series", description: "Series evaluations by outcome (evaluated, failed, stale)");
    private static readonly Counter<long> FailedInstances = Meter.CreateCounter<long>(
        "pipeline.evaluation.instances.failed", description: "Source/derived pairs that could not be evaluated");
    private static readonly Histogram<double> FidelityPsnr = Meter.CreateHistogram(
        "pipeline.evaluation.fidelity.psnr", "dB", "Series mean PSNR of the denoised output against its input",
        advice: Buckets(10, 15, 20, 25, 30, 35, 40, 45, 50, 60));
    private static readonly Histogram<double> FidelitySsim = Meter.CreateHistogram(
        "pipeline.evaluation.fidelity.ssim", "1", "Series mean SSIM of the denoised output against its input",
        advice: Buckets(0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 0.98, 0.99, 1));
    private static readonly Histogram<double> NoiseSigma = Meter.CreateHistogram(
        "pipeline.evaluation.noise.sigma", "%", "No-reference noise estimate in percent of the data range (tag image: input or output)",
        advice: Buckets(0.25, 0.5, 1, 2, 3, 5, 7.5, 10, 15, 20, 30));
    private static readonly Histogram<double> ReferencePsnrGain = Meter.CreateHistogram(
        "pipeline.evaluation.reference.psnr_gain", "dB", "PSNR against the clean reference, output minus input",
        advice: Buckets(-5, -2, -1, 0, 1, 2, 3, 4, 5, 7.5, 10, 15));
    private static readonly Histogram<double> ReferenceSsimGain = Meter.CreateHistogram(
        "pipeline.evaluation.reference.ssim_gain", "1", "SSIM against the clean reference, output minus input",
        advice: Buckets(-0.1, -0.05, 0, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5));

    private static readonly Counter<long> ModelScores = Meter.CreateCounter<long>(
        "pipeline.evaluation.model_scores", description: "Model-scoring requests by outcome (scored, failed)");

    /// <summary>Counts one model-scoring request by outcome (tag model_version: the candidate).</summary>
    internal static void ModelScored(string candidateModelVersion, string outcome) =>
        ModelScores.Add(1, new TagList { { "model_version", candidateModelVersion }, { "outcome", outcome } });

    /// <summary>Counts one series by outcome.</summary>
    internal static void SeriesEvaluated(string modelVersion, string? modality, string outcome) =>
        Series.Add(1, Tags(modelVersion, modality, new("outcome", outcome)));

    /// <summary>Records the figures of one evaluated series.</summary>
    internal static void Record(QualityFigures series, string modelVersion, string modality, int failedInstances, double dataRange)
    {
        SeriesEvaluated(modelVersion, modality, "evaluated");
        var tags = Tags(modelVersion, modality);
        if (failedInstances > 0) FailedInstances.Add(failedInstances, tags);
        if (double.IsFinite(series.PsnrFidelity)) FidelityPsnr.Record(series.PsnrFidelity, tags);
        FidelitySsim.Record(series.SsimFidelity, tags);
        NoiseSigma.Record(100 * series.NoiseSigmaInput / dataRange, Tags(modelVersion, modality, new("image", "input")));
        NoiseSigma.Record(100 * series.NoiseSigmaOutput / dataRange, Tags(modelVersion, modality, new("image", "output")));
        if (series.PsnrReferenceGain is { } psnrGain && double.IsFinite(psnrGain)) ReferencePsnrGain.Record(psnrGain, tags);
        if (series.SsimReferenceGain is { } ssimGain) ReferenceSsimGain.Record(ssimGain, tags);
    }

    private static TagList Tags(string modelVersion, string? modality, KeyValuePair<string, object?>? extra = null)
    {
        var tags = new TagList { { "model_version", modelVersion }, { "modality", PipelineMetrics.ModalityLabel(modality) } };
        if (extra is { } e) tags.Add(e);
        return tags;
    }

    private static InstrumentAdvice<double> Buckets(params double[] bounds) => new() { HistogramBucketBoundaries = bounds };
}
