using System.Diagnostics;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Pipeline.Contracts;
using Pipeline.Dicom;
using Pipeline.Hosting;
using Pipeline.Imaging;
using Pipeline.Imaging.Dicom;
using Pipeline.Imaging.Noise;
using Pipeline.Imaging.Pictures;
using Pipeline.Storage;

namespace Pipeline.Evaluation;

/// <summary>
/// Evaluates one denoised series from the objects its SeriesDenoised names: per instance and per series the
/// no-reference noise estimate of input and output, fidelity PSNR/SSIM of output against input and, when a clean
/// reference is registered (<see cref="BucketLayout.Reference"/>), MSE/PSNR/SSIM of input and output against it.
/// Writes the montage and the report, exports the figures as metrics. A pair that cannot be read fails alone.
/// </summary>
public sealed partial class SeriesEvaluator(
    IObjectStore store,
    IOptions<EvaluationOptions> options,
    IOptions<StorageOptions> storage,
    TimeProvider clock,
    ILogger<SeriesEvaluator> logger)
{
    private readonly EvaluationOptions _options = options.Value;
    private readonly string _outputBucket = storage.Value.OutputBucket;

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
            LogStale(logger, job.SourceSeriesInstanceUid, job.Revision, later);
            EvaluationTelemetry.SeriesEvaluated(job.ModelVersion, null, "stale");
            return null;
        }

        var pairs = new List<LoadedPair>(job.Instances.Count);
        foreach (var instance in job.Instances)
            pairs.Add(await LoadPairAsync(instance, ct));
        var readable = pairs.Where(p => p.Failure is null).ToList();
        if (readable.Count == 0)
            throw await FailSeriesAsync(job, pairs, attempt, ct);
        var first = readable[0].Source!;
        var modality = first.Modality;
        activity?.SetTag("pipeline.modality", modality);

        var (referenceSummary, partners) = await MatchReferenceAsync(job, readable, ct);
        var figures = new QualityFigures?[pairs.Count];
        var referenceProblems = new string?[pairs.Count];
        Parallel.For(0, pairs.Count, i =>
        {
            if (pairs[i].Failure is not null) return;
            partners.TryGetValue(pairs[i], out var partner);
            try
            {
                (figures[i], referenceProblems[i]) = Measure(pairs[i], partner);
            }
            catch (ArgumentException e)
            {
                // e.g. smaller than the SSIM window; the parameter name means nothing to an operator
                pairs[i].Failure = $"cannot be measured: {e.Message.Replace($" (Parameter '{e.ParamName}')", "", StringComparison.Ordinal)}";
            }
        });
        foreach (var failed in pairs.Where(p => p.Failure is not null))
            LogPairFailed(logger, ObjectId.Of(failed.Objects.Source), failed.Failure!);
        var evaluated = pairs.Count(p => p.Failure is null);
        if (evaluated == 0)
            throw await FailSeriesAsync(job, pairs, attempt, ct);

        var instances = pairs.Select((p, i) => new InstanceReport(
            p.Objects.Source, p.Objects.Derived, p.Source?.SopInstanceUid, p.Source?.Frames.Count, figures[i],
            partners.TryGetValue(p, out var partner) && partner.Reference is not null ? partner.Reference.Object : null,
            partner?.Problem ?? referenceProblems[i], p.Failure)).ToList();
        var series = Mean(figures.OfType<QualityFigures>().ToList());
        var montage = await WriteMontageAsync(job, pairs, ct);

        var report = new EvaluationReport(
            job.StudyInstanceUid, job.SourceSeriesInstanceUid, job.DerivedSeriesInstanceUid, job.ModelVersion, job.Revision,
            modality, DicomImages.DefaultDataRange(first.Instance.Description), evaluated, pairs.Count - evaluated,
            series, referenceSummary is null ? null : referenceSummary with
            {
                InstancesMatched = figures.Count(f => f?.PsnrReferenceInput is not null),
            },
            instances, montage);
        var reportRef = new ObjectRef(_outputBucket, BucketLayout.Report(job.StudyInstanceUid, job.SourceSeriesInstanceUid, job.ModelVersion));
        await store.PutBytesAsync(reportRef.Bucket, reportRef.Key, JsonSerializer.SerializeToUtf8Bytes(report, EvaluationReport.Json),
            new ObjectWriteOptions("application/json"), ct);

        EvaluationTelemetry.Record(series, job.ModelVersion, modality, report.InstancesFailed, report.DataRange!.Value);
        activity?.SetTag("pipeline.instances_failed", report.InstancesFailed);
        activity?.SetTag("pipeline.reference", referenceSummary is not null);
        LogEvaluated(logger, job.SourceSeriesInstanceUid, job.ModelVersion, evaluated, report.InstancesFailed, series.PsnrFidelity);

        var summary = series.Named().ToDictionary(p => p.Key, p => p.Value);
        summary["instances_evaluated"] = report.InstancesEvaluated;
        summary["instances_failed"] = report.InstancesFailed;
        return new EvaluationCompleted(job.StudyInstanceUid, job.SourceSeriesInstanceUid, job.ModelVersion, reportRef, montage?.Image, summary);
    }

    /// <summary>The marker's revision when it is later than the job's (the job's outputs were replaced since).</summary>
    private async Task<int?> LaterRevisionAsync(SeriesDenoised job, CancellationToken ct)
    {
        // No (readable) marker: nothing says the job is stale.
        var marker = (await store.ReadMarkerAsync(job.CompletionMarker, ct)).Marker;
        return marker?.Revision > job.Revision ? marker.Revision : null;
    }

    private async Task<LoadedPair> LoadPairAsync(DenoisedInstance objects, CancellationToken ct)
    {
        var (source, sourceProblem) = await LoadAsync(objects.Source, ct);
        var (derived, derivedProblem) = await LoadAsync(objects.Derived, ct);
        var failure = sourceProblem is not null ? $"source: {sourceProblem}"
            : derivedProblem is not null ? $"derived: {derivedProblem}"
            : Mismatch(source!, derived!, "derived");
        return new LoadedPair(objects, failure is null ? source : null, failure is null ? derived : null, failure);
    }

    /// <summary>
    /// Reads an object as a DICOM image with all its frames. A missing object or anything the parser or pixel decoder
    /// throws is a problem of this object alone; storage errors propagate (the bus retries them).
    /// </summary>
    private async Task<(LoadedInstance? Instance, string? Problem)> LoadAsync(ObjectRef obj, CancellationToken ct)
    {
        byte[] bytes;
        try
        {
            bytes = await store.GetBytesAsync(obj.Bucket, obj.Key, cancellationToken: ct);
        }
        catch (ObjectNotFoundException)
        {
            return (null, "object not found");
        }
        try
        {
            var file = DicomFile.Open(bytes);
            var instance = SeriesInstance.From(file, obj.ToString());
            var frames = new List<Image> { instance.Image };
            for (var k = 1; k < file.GetPixelData().FrameCount; k++) frames.Add(DicomImages.ToImage(file, k));
            var ds = file.Dataset;
            return (new LoadedInstance(obj, instance, frames, ds.GetString(DicomTags.Modality) ?? "", ds.GetString(DicomTags.SOPInstanceUID)), null);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return (null, $"not a readable DICOM image: {e.Message}");
        }
    }

    /// <summary>Why <paramref name="other"/> cannot be compared pixel by pixel with <paramref name="source"/>, or null.</summary>
    private static string? Mismatch(LoadedInstance source, LoadedInstance other, string name)
    {
        var (a, b) = (source.Frames[0], other.Frames[0]);
        if (a.Width != b.Width || a.Height != b.Height)
            return $"{name} is {b.Width}x{b.Height}, source {a.Width}x{a.Height}";
        return source.Frames.Count != other.Frames.Count ? $"{name} has {other.Frames.Count} frames, source {source.Frames.Count}" : null;
    }

    /// <summary>
    /// Reads the clean reference registered for the source series (if any) and pairs it with the readable sources by the
    /// product's one slice-matching rule. A broken registration is reported, never fatal: the rest is still evaluated.
    /// </summary>
    private async Task<(ReferenceSummary? Summary, Dictionary<LoadedPair, ReferencePartner> Partners)> MatchReferenceAsync(
        SeriesDenoised job, List<LoadedPair> readable, CancellationToken ct)
    {
        var partners = new Dictionary<LoadedPair, ReferencePartner>();
        var registration = new ObjectRef(_outputBucket, BucketLayout.Reference(job.StudyInstanceUid, job.SourceSeriesInstanceUid));
        CleanReference? clean;
        try
        {
            clean = JsonSerializer.Deserialize<CleanReference>(
                await store.GetBytesAsync(registration.Bucket, registration.Key, cancellationToken: ct), ContractJson.Options);
        }
        catch (ObjectNotFoundException)
        {
            return (null, partners);
        }
        catch (JsonException e)
        {
            return (Problem(registration, $"registration is not valid JSON: {e.Message}", job), partners);
        }
        if (clean?.Instances is not { Count: > 0 })
            return (Problem(registration, "registration lists no instances", job), partners);

        var unreadable = new List<ObjectProblem>();
        var references = new List<LoadedInstance>();
        foreach (var obj in clean.Instances)
        {
            var (instance, problem) = await LoadAsync(obj, ct);
            if (instance is null) unreadable.Add(new ObjectProblem(obj, problem!));
            else references.Add(instance);
        }
        if (references.Count == 0)
            return (Problem(registration, "no reference instance could be read", job) with { Unreadable = unreadable }, partners);

        SliceMatching matching;
        try
        {
            matching = SliceMatching.Match([.. readable.Select(p => p.Source!.Instance)], [.. references.Select(r => r.Instance)], "reference instances");
        }
        catch (InvalidDataException e)
        {
            return (Problem(registration, e.Message, job) with { Unreadable = unreadable }, partners);
        }
        var byInstance = references.ToDictionary(r => r.Instance);
        for (var i = 0; i < readable.Count; i++)
        {
            var match = matching.Matches[i];
            var reference = match.Partner is null ? null : byInstance[match.Partner];
            var problem = match.Problem ?? Mismatch(readable[i].Source!, reference!, "reference");
            partners[readable[i]] = new ReferencePartner(problem is null ? reference : null, problem);
        }
        return (new ReferenceSummary(registration, matching.MatchedBy, 0, null, unreadable), partners);
    }

    private ReferenceSummary Problem(ObjectRef registration, string problem, SeriesDenoised job)
    {
        LogReferenceProblem(logger, job.SourceSeriesInstanceUid, problem);
        return new ReferenceSummary(registration, null, 0, problem, []);
    }

    /// <summary>The figures of one readable pair: means over its frames. Data range: 2^BitsStored - 1 of the source.</summary>
    private static (QualityFigures Figures, string? ReferenceProblem) Measure(LoadedPair pair, ReferencePartner? partner)
    {
        var (source, derived) = (pair.Source!, pair.Derived!);
        var range = DicomImages.DefaultDataRange(source.Instance.Description);
        var n = source.Frames.Count;
        double noiseIn = 0, noiseOut = 0, psnr = 0, ssim = 0;
        for (var k = 0; k < n; k++)
        {
            noiseIn += NoiseEstimator.Estimate(source.Frames[k]) / n;
            noiseOut += NoiseEstimator.Estimate(derived.Frames[k]) / n;
            var fidelity = SeriesComparison.Measure(source.Frames[k], derived.Frames[k], range);
            psnr += fidelity.Psnr / n;
            ssim += fidelity.Ssim / n;
        }
        var figures = new QualityFigures(noiseIn, noiseOut, psnr, ssim);
        if (partner?.Reference is not { } reference) return (figures, null);

        double mseIn = 0, psnrIn = 0, ssimIn = 0, mseOut = 0, psnrOut = 0, ssimOut = 0;
        for (var k = 0; k < n; k++)
        {
            var input = SeriesComparison.Measure(reference.Frames[k], source.Frames[k], range);
            var output = SeriesComparison.Measure(reference.Frames[k], derived.Frames[k], range);
            (mseIn, psnrIn, ssimIn) = (mseIn + input.Mse / n, psnrIn + input.Psnr / n, ssimIn + input.Ssim / n);
            (mseOut, psnrOut, ssimOut) = (mseOut + output.Mse / n, psnrOut + output.Psnr / n, ssimOut + output.Ssim / n);
        }
        return (figures with
        {
            MseReferenceInput = mseIn, PsnrReferenceInput = psnrIn, SsimReferenceInput = ssimIn,
            MseReferenceOutput = mseOut, PsnrReferenceOutput = psnrOut, SsimReferenceOutput = ssimOut,
            PsnrReferenceGain = psnrOut - psnrIn, SsimReferenceGain = ssimOut - ssimIn,
        }, null);
    }

    /// <summary>Plain means over instances; a reference figure over the instances that have it.</summary>
    private static QualityFigures Mean(List<QualityFigures> all)
    {
        static double? MeanOf(IEnumerable<double?> values) =>
            values.OfType<double>().ToList() is { Count: > 0 } present ? present.Average() : null;
        return new QualityFigures(
            all.Average(f => f.NoiseSigmaInput), all.Average(f => f.NoiseSigmaOutput),
            all.Average(f => f.PsnrFidelity), all.Average(f => f.SsimFidelity),
            MeanOf(all.Select(f => f.MseReferenceInput)), MeanOf(all.Select(f => f.PsnrReferenceInput)), MeanOf(all.Select(f => f.SsimReferenceInput)),
            MeanOf(all.Select(f => f.MseReferenceOutput)), MeanOf(all.Select(f => f.PsnrReferenceOutput)), MeanOf(all.Select(f => f.SsimReferenceOutput)),
            MeanOf(all.Select(f => f.PsnrReferenceGain)), MeanOf(all.Select(f => f.SsimReferenceGain)));
    }

    /// <summary>
    /// Original | denoised | difference of evenly spaced readable pairs (frame 0) of the first pair's size, or null when
    /// none qualifies.
    /// </summary>
    private async Task<MontageSummary?> WriteMontageAsync(SeriesDenoised job, List<LoadedPair> pairs, CancellationToken ct)
    {
        var first = pairs.First(p => p.Failure is null).Source!.Frames[0];
        var shown = pairs.Select((p, i) => (Pair: p, Index: i))
            .Where(p => p.Pair.Failure is null && p.Pair.Source!.Frames[0].Width == first.Width && p.Pair.Source.Frames[0].Height == first.Height)
            .ToList();
        var geometry = VolumeGeometry.Identity(first.ColumnSpacing, first.RowSpacing);
        var original = new Volume([.. shown.Select(p => p.Pair.Source!.Frames[0])], geometry);
        var denoised = new Volume([.. shown.Select(p => p.Pair.Derived!.Frames[0])], geometry);
        var slices = SeriesMontage.MidSlices(shown.Count, _options.MontageSlices);
        if (slices.Length == 0) slices = [0];
        var png = SeriesMontage.Render(original, denoised, slices);
        var image = new ObjectRef(_outputBucket, BucketLayout.Montage(job.StudyInstanceUid, job.SourceSeriesInstanceUid, job.ModelVersion));
        await store.PutBytesAsync(image.Bucket, image.Key, png, new ObjectWriteOptions("image/png"), ct);
        return new MontageSummary(image, [.. slices.Select(k => shown[k].Index)]);
    }

    /// <summary>Writes the failure record of a series none of whose pairs could be evaluated; returns the exception to throw.</summary>
    private async Task<SeriesNotEvaluableException> FailSeriesAsync(SeriesDenoised job, List<LoadedPair> pairs, int attempt, CancellationToken ct)
    {
        var reason = pairs.Count == 0
            ? "the job lists no instances"
            : $"none of the {pairs.Count} instances could be evaluated; first: {pairs[0].Failure}";
        var source = pairs.Count > 0 ? pairs[0].Objects.Source : job.CompletionMarker;
        await store.WriteAsync(_outputBucket, new FailureRecord(source, PipelineStage.Evaluation, reason, nameof(SeriesNotEvaluableException),
            clock.GetUtcNow(), attempt, job.StudyInstanceUid, job.SourceSeriesInstanceUid, job.ModelVersion), ct);
        EvaluationTelemetry.SeriesEvaluated(job.ModelVersion, null, "failed");
        LogSeriesFailed(logger, job.SourceSeriesInstanceUid, reason);
        return new SeriesNotEvaluableException(reason);
    }

    /// <summary>A decoded object: frame 0 with its position data, every frame, modality and SOP Instance UID.</summary>
    private sealed record LoadedInstance(ObjectRef Object, SeriesInstance Instance, IReadOnlyList<Image> Frames, string Modality, string? SopInstanceUid);

    /// <summary>One source/derived pair: both decoded, or the reason it cannot be evaluated.</summary>
    private sealed class LoadedPair(DenoisedInstance objects, LoadedInstance? source, LoadedInstance? derived, string? failure)
    {
        public DenoisedInstance Objects { get; } = objects;
        public LoadedInstance? Source { get; } = source;
        public LoadedInstance? Derived { get; } = derived;
        /// <summary>Why the pair cannot be evaluated: set when reading, or when measuring refuses the images.</summary>
        public string? Failure { get; set; } = failure;
    }

    /// <summary>The reference instance for one pair, or why there is none.</summary>
    private sealed record ReferencePartner(LoadedInstance? Reference, string? Problem);

    [LoggerMessage(2001, LogLevel.Information, "Evaluated series {SeriesUid} for model {ModelVersion}: {Evaluated} instances, {Failed} failed, fidelity PSNR {PsnrFidelity:0.00} dB")]
    private static partial void LogEvaluated(ILogger logger, string seriesUid, string modelVersion, int evaluated, int failed, double psnrFidelity);

    [LoggerMessage(2002, LogLevel.Warning, "Evaluation of the pair with source object {ObjectId} failed: {Reason} (listed in the report)")]
    private static partial void LogPairFailed(ILogger logger, string objectId, string reason);

    [LoggerMessage(2003, LogLevel.Error, "Series {SeriesUid} cannot be evaluated: {Reason} (see the failure record)")]
    private static partial void LogSeriesFailed(ILogger logger, string seriesUid, string reason);

    [LoggerMessage(2004, LogLevel.Information, "Series {SeriesUid} revision {Revision} skipped: its outputs belong to revision {Later} now")]
    private static partial void LogStale(ILogger logger, string seriesUid, int revision, int later);

    [LoggerMessage(2005, LogLevel.Warning, "Clean reference of series {SeriesUid} not used: {Problem}")]
    private static partial void LogReferenceProblem(ILogger logger, string seriesUid, string problem);
}

/// <summary>No instance of the series could be read: the message goes to the error queue (after its failure record).</summary>
public sealed class SeriesNotEvaluableException(string message) : Exception(message);
