using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Pipeline.Contracts;
using Pipeline.Hosting;
using Pipeline.Imaging.Dicom;
using Pipeline.Storage;

namespace Pipeline.Evaluation;

/// <summary>
/// Evaluates one denoised series from the objects its SeriesDenoised names: per instance and per series the
/// no-reference noise estimate of input and output, fidelity PSNR/SSIM of output against input and, when a clean
/// reference is registered (<see cref="BucketLayout.Reference"/>), MSE/PSNR/SSIM of input and output against it.
/// Writes the montage and the report, exports the figures as metrics. A pair that cannot be read fails alone.
/// </summary>
internal sealed partial class SeriesEvaluator
{
    private readonly IObjectStore _store;
    private readonly TimeProvider _clock;
    private readonly ILogger _logger;
    private readonly string _outputBucket;
    private readonly InstanceLoader _loader;
    private readonly CleanReferenceMatcher _references;
    private readonly MontageWriter _montage;

    public SeriesEvaluator(IObjectStore store, IOptions<EvaluationOptions> options, IOptions<StorageOptions> storage, TimeProvider clock,
        IOptions<LimitsOptions> limits, ILogger<SeriesEvaluator> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(storage);
        ArgumentNullException.ThrowIfNull(limits);
        (_store, _clock, _logger, _outputBucket) = (store, clock, logger, storage.Value.OutputBucket);
        _loader = new InstanceLoader(store, limits.Value.ToReadOptions());
        _references = new CleanReferenceMatcher(store, _loader, _outputBucket, logger); // logs as the evaluator
        _montage = new MontageWriter(store, _outputBucket, options.Value.MontageSlices);
    }

    /// <summary>
    /// Evaluates the series and returns the message to publish, or null when the job is stale (its completion marker
    /// already belongs to a later revision, whose own message will be evaluated).
    /// </summary>
    /// <exception cref="SeriesNotEvaluableException">No pair could be read; a failure record was written first.</exception>
    public async Task<EvaluationCompleted?> EvaluateAsync(SeriesDenoised job, int attempt, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(job);
        using var activity = EvaluationTelemetry.Source.StartActivity("evaluation.series");
        activity?.SetTag("pipeline.series", job.SourceSeriesInstanceUid);
        activity?.SetTag("pipeline.model_version", job.ModelVersion);
        activity?.SetTag("pipeline.revision", job.Revision);
        activity?.SetTag("pipeline.instances", job.Instances.Count);

        if (await LaterRevisionAsync(job, ct) is { } later)
        {
            LogStale(_logger, job.SourceSeriesInstanceUid, job.Revision, later);
            EvaluationTelemetry.SeriesEvaluated(job.ModelVersion, null, "stale");
            return null;
        }

        var pairs = new List<LoadedPair>(job.Instances.Count);
        foreach (var instance in job.Instances)
            pairs.Add(await _loader.LoadPairAsync(instance, ct));
        var readable = pairs.Where(p => p.Failure is null).ToList();
        if (readable.Count == 0)
            throw await FailSeriesAsync(job, pairs, attempt, ct);
        var first = readable[0].Source!;
        var modality = first.Modality;
        activity?.SetTag("pipeline.modality", modality);

        var (referenceSummary, partners) = await _references.MatchAsync(job, readable, ct);
        var figures = PairMeasurement.MeasureAll(pairs, partners);
        foreach (var failed in pairs.Where(p => p.Failure is not null))
            LogPairFailed(_logger, ObjectId.Of(failed.Objects.Source), failed.Failure!);
        var evaluated = pairs.Count(p => p.Failure is null);
        if (evaluated == 0)
            throw await FailSeriesAsync(job, pairs, attempt, ct);

        var instances = pairs.Select((p, i) => new InstanceReport(
            p.Objects.Source, p.Objects.Derived, p.Source?.SopInstanceUid, p.Source?.Frames.Count, figures[i],
            partners.TryGetValue(p, out var partner) && partner.Reference is not null ? partner.Reference.Object : null,
            partner?.Problem, p.Failure)).ToList();
        var series = PairMeasurement.Mean(figures.OfType<QualityFigures>().ToList());
        var montage = await _montage.WriteAsync(job, pairs, ct);

        var report = new EvaluationReport(
            job.StudyInstanceUid, job.SourceSeriesInstanceUid, job.DerivedSeriesInstanceUid, job.ModelVersion, job.Revision,
            modality, DicomImages.DefaultDataRange(first.Instance.Description), evaluated, pairs.Count - evaluated,
            series, referenceSummary is null ? null : referenceSummary with
            {
                InstancesMatched = figures.Count(f => f?.PsnrReferenceInput is not null),
            },
            instances, montage);
        var reportRef = new ObjectRef(_outputBucket, BucketLayout.Report(job.StudyInstanceUid, job.SourceSeriesInstanceUid, job.ModelVersion));
        await _store.PutBytesAsync(reportRef.Bucket, reportRef.Key, JsonSerializer.SerializeToUtf8Bytes(report, EvaluationReport.Json),
            new ObjectWriteOptions("application/json"), ct);

        EvaluationTelemetry.Record(series, job.ModelVersion, modality, report.InstancesFailed, report.DataRange!.Value);
        activity?.SetTag("pipeline.instances_failed", report.InstancesFailed);
        activity?.SetTag("pipeline.reference", referenceSummary is not null);
        LogEvaluated(_logger, job.SourceSeriesInstanceUid, job.ModelVersion, evaluated, report.InstancesFailed, series.PsnrFidelity);

        var summary = series.Named().ToDictionary(p => p.Key, p => p.Value);
        summary["instances_evaluated"] = report.InstancesEvaluated;
        summary["instances_failed"] = report.InstancesFailed;
        return new EvaluationCompleted(job.StudyInstanceUid, job.SourceSeriesInstanceUid, job.ModelVersion, reportRef, montage?.Image, summary);
    }

    /// <summary>The marker's revision when it is later than the job's (the job's outputs were replaced since).</summary>
    private async Task<int?> LaterRevisionAsync(SeriesDenoised job, CancellationToken ct)
    {
        // No (readable) marker: nothing says the job is stale.
        var marker = (await _store.ReadMarkerAsync(job.CompletionMarker, ct)).Marker;
        return marker?.Revision > job.Revision ? marker.Revision : null;
    }

    /// <summary>Writes the failure record of a series none of whose pairs could be evaluated; returns the exception to throw.</summary>
    private async Task<SeriesNotEvaluableException> FailSeriesAsync(SeriesDenoised job, List<LoadedPair> pairs, int attempt, CancellationToken ct)
    {
        var reason = pairs.Count == 0
            ? "the job lists no instances"
            : $"none of the {pairs.Count} instances could be evaluated; first: {pairs[0].Failure}";
        var source = pairs.Count > 0 ? pairs[0].Objects.Source : job.CompletionMarker;
        await _store.WriteAsync(_outputBucket, new FailureRecord(source, PipelineStage.Evaluation, reason, nameof(SeriesNotEvaluableException),
            _clock.GetUtcNow(), attempt, job.StudyInstanceUid, job.SourceSeriesInstanceUid, job.ModelVersion), ct);
        EvaluationTelemetry.SeriesEvaluated(job.ModelVersion, null, "failed");
        LogSeriesFailed(_logger, job.SourceSeriesInstanceUid, reason);
        return new SeriesNotEvaluableException(reason);
    }

    [LoggerMessage(3001, LogLevel.Information, "Evaluated series {SeriesUid} for model {ModelVersion}: {Evaluated} instances, {Failed} failed, fidelity PSNR {PsnrFidelity:0.00} dB")]
    private static partial void LogEvaluated(ILogger logger, string seriesUid, string modelVersion, int evaluated, int failed, double psnrFidelity);

    [LoggerMessage(3002, LogLevel.Warning, "Evaluation of the pair with source object {ObjectId} failed: {Reason} (listed in the report)")]
    private static partial void LogPairFailed(ILogger logger, string objectId, string reason);

    [LoggerMessage(3003, LogLevel.Error, "Series {SeriesUid} cannot be evaluated: {Reason} (see the failure record)")]
    private static partial void LogSeriesFailed(ILogger logger, string seriesUid, string reason);

    [LoggerMessage(3004, LogLevel.Information, "Series {SeriesUid} revision {Revision} skipped: its outputs belong to revision {Later} now")]
    private static partial void LogStale(ILogger logger, string seriesUid, int revision, int later);

}

/// <summary>No instance of the series could be read: the message goes to the error queue (after its failure record).</summary>
internal sealed class SeriesNotEvaluableException(string message) : Exception(message);
