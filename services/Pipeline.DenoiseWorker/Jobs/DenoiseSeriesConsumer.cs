using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using MassTransit;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Pipeline.Contracts;
using Pipeline.DenoiseWorker.Models;
using Pipeline.Denoising.Dicom;
using Pipeline.Dicom;
using Pipeline.Hosting;
using Pipeline.Storage;

namespace Pipeline.DenoiseWorker.Jobs;

/// <summary>
/// One series job: fetch the instances, decode, denoise with the job's model version, write the derived
/// instances under the job's revision folder, write the completion marker LAST, delete older revisions,
/// then publish <see cref="SeriesDenoised"/>. Re-running a job rewrites the same keys with the same bytes;
/// a job whose marker already covers its instance set is acknowledged without work. A delivery works for at most
/// DenoiseWorker:JobTimeBudget (RabbitMQ closes the channel of a delivery unacknowledged past its consumer_timeout):
/// then it publishes the same job again (a continuation) and is acknowledged; every delivery skips the instances whose
/// derived object is already in the revision folder (written whole, deterministic bytes), so each is denoised once. A bad instance fails
/// alone (failure record + <see cref="InstanceFailed"/>); anything else throws, is retried in process,
/// then lands in the error queue (see <see cref="DenoiseJobFaultConsumer"/>).
/// </summary>
internal sealed partial class DenoiseSeriesConsumer(
    IObjectStore store,
    LoadedModels models,
    IOptions<DenoiseWorkerOptions> options,
    IOptions<StorageOptions> storage,
    IOptions<LimitsOptions> limits,
    IOptions<BusOptions> bus,
    TimeProvider clock,
    ILogger<DenoiseSeriesConsumer> logger) : IConsumer<DenoiseSeries>
{
    public static readonly ActivitySource Activity = new("Pipeline.DenoiseWorker");
    private static readonly Meter Meter = new(PipelineMetrics.DenoiseWorkerMeter);
    private static readonly Counter<long> Slices = Meter.CreateCounter<long>(PipelineMetrics.SlicesDenoised, description: "Slices denoised");
    private static readonly Counter<long> Series = Meter.CreateCounter<long>("pipeline.denoise.series", description: "Series written (completion marker)");
    private static readonly Counter<long> Failures = Meter.CreateCounter<long>("pipeline.denoise.instance_failures", description: "Instances that failed alone");
    private static readonly Counter<long> Continuations = Meter.CreateCounter<long>("pipeline.denoise.continuations", description: "Jobs published again when a delivery used up its time budget");
    private static readonly Histogram<double> StepSeconds = Meter.CreateHistogram<double>("pipeline.denoise.step_duration", "s", "Seconds per job step");
    private static readonly Histogram<double> SliceInferenceSeconds = Meter.CreateHistogram("pipeline.denoise.slice_inference", "s",
        "Engine seconds per slice denoised, by device and model version",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.005, 0.01, 0.02, 0.04, 0.08, 0.15, 0.3, 0.6, 1.2, 2.5, 5] });
    private static readonly Histogram<double> SeriesLatency = Meter.CreateHistogram("pipeline.denoise.series_latency", "s",
        "Seconds from the series' drop (ingest last saw a new instance) to its completion marker, by priority",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [5, 10, 20, 30, 60, 120, 300, 600, 1800, 3600, 7200, 14400, 43200] });

    /// <summary>Header of a continuation: how many deliveries of the job used up their time budget before it (absent on the first).</summary>
    public const string ContinuationHeader = "Pipeline-Continuation";

    public async Task Consume(ConsumeContext<DenoiseSeries> context)
    {
        var started = clock.GetTimestamp();
        var job = context.Message;
        var continuation = context.Headers.Get<int>(ContinuationHeader) ?? 0;
        var ct = context.CancellationToken;
        var settings = options.Value;
        var output = storage.Value.OutputBucket;
        var publisher = new BoundedPublisher(context, bus.Value.PublishTimeout, clock);
        using var activity = Activity.StartActivity("denoise.series");
        activity?.SetTag("pipeline.series", job.SeriesInstanceUid);
        activity?.SetTag("pipeline.model_version", job.ModelVersion);
        activity?.SetTag("pipeline.instances", job.Instances.Count);
        activity?.SetTag("pipeline.revision", job.Revision);
        activity?.SetTag("pipeline.continuation", continuation);

        var markerRef = CompletionMarkers.Of(output, job.StudyInstanceUid, job.SeriesInstanceUid, job.ModelVersion);
        // An unreadable marker counts as none: the job redoes the series.
        if ((await store.ReadMarkerAsync(markerRef, ct)).Marker is { } done && done.Covers(job))
        {
            LogAlreadyDone(logger, job.SeriesInstanceUid, job.Revision, done.Revision);
            // Announced again from the marker: a worker that died between the marker and the publish
            // must not leave the series unevaluated (a duplicate announcement is harmless downstream).
            if (done.Instances.Count > 0)
                await publisher.PublishAsync(new SeriesDenoised(done.StudyInstanceUid, done.SeriesInstanceUid, done.DerivedSeriesInstanceUid,
                    done.ModelVersion, done.Instances, markerRef, done.FailedInstances.Count, done.Revision), ct);
            return;
        }

        var timings = new Dictionary<string, double>();
        var watch = Stopwatch.StartNew();
        using var model = await models.AcquireAsync(job.ModelVersion, ct);
        activity?.SetTag("pipeline.device", model.Device);
        Step(timings, "model", watch);

        // Every instance is fetched and decoded: the series' intensity mapping and the 2.5D neighbours need them all.
        var sources = await FetchAsync(job, settings.TransferConcurrency, ct);
        Step(timings, "fetch", watch);
        var written = await EarlierDeliveriesAsync(job, sources, model.Version.ToString(), output, ct);
        var resumed = written.Count(w => w is not null);

        // Only the engine is exclusive: decoding and encoding run while another job of this worker holds it.
        var decoded = DecodedSeries.Decode([.. sources.Select(s => s.File)]);
        Step(timings, "decode", watch);
        var complete = false;
        var slices = 0;
        model.Run(denoiser =>
        {
            Step(timings, "wait", watch);
            complete = decoded.DenoiseSome(denoiser, i => written[i] is null, () => clock.GetElapsedTime(started) >= settings.JobTimeBudget, n =>
            {
                slices += n;
                Slices.Add(n, new KeyValuePair<string, object?>("modality", PipelineMetrics.ModalityLabel(job.Modality)));
            }, ct);
        });
        Step(timings, "denoise", watch);
        if (slices > 0)
            SliceInferenceSeconds.Record(timings["denoise"] / slices,
                new KeyValuePair<string, object?>("device", model.Device), new KeyValuePair<string, object?>("model_version", job.ModelVersion));
        var outcomes = decoded.Derive(DerivationLabels.For(model.Version.ToString(), model.Version.Name, model.Manifest.Architecture.Name, settings.ToLabelOptions()));
        Step(timings, "derive", watch);

        var failed = new List<ObjectRef>();
        await Parallel.ForAsync(0, job.Instances.Count, new ParallelOptions { MaxDegreeOfParallelism = settings.TransferConcurrency, CancellationToken = ct }, async (i, token) =>
        {
            if (outcomes[i]?.Derived is not { } derived) return;
            var uid = derived.Dataset.GetRequiredString(DicomTags.SOPInstanceUID);
            var key = BucketLayout.DerivedInstance(job.StudyInstanceUid, job.SeriesInstanceUid, job.ModelVersion, job.Revision, uid);
            using var buffer = new MemoryStream();
            derived.Save(buffer);
            buffer.Position = 0;
            await store.PutAsync(output, key, buffer, new ObjectWriteOptions("application/dicom", NoiseMetadata(outcomes[i]!)), token);
            written[i] = new DenoisedInstance(job.Instances[i], new ObjectRef(output, key));
        });
        var denoised = written.Count(w => w is not null) - resumed;
        if (!complete)
        {
            // The budget ran out: what is written stays, the rest goes to the back of the queue as the same job.
            await publisher.PublishAsync(job, ct, p =>
            {
                p.TrySetPriority((byte)job.Priority);
                p.Headers.Set(ContinuationHeader, continuation + 1);
                if (context.Headers.Get<string>(PipelineMetrics.SeriesSeenHeader) is { } seen) p.Headers.Set(PipelineMetrics.SeriesSeenHeader, seen);
            });
            Continuations.Add(1);
            LogContinued(logger, job.SeriesInstanceUid, job.Revision, settings.JobTimeBudget, denoised, resumed,
                written.Count(w => w is null), continuation + 1);
            return;
        }
        // Failures are recorded once, by the delivery that completes the series.
        for (var i = 0; i < job.Instances.Count; i++)
        {
            var reason = sources[i].FailureReason ?? outcomes[i]?.FailureReason;
            if (reason is null) continue;
            var errorType = sources[i].ErrorType ?? outcomes[i]?.ErrorType ?? "Unknown";
            await RecordFailureAsync(publisher, job.Instances[i], reason, errorType, job, output, ct);
            failed.Add(job.Instances[i]);
        }
        Step(timings, "write", watch);

        var instances = written.OfType<DenoisedInstance>().ToList();
        var derivedSeries = DerivedInstance.SeriesUid(job.SeriesInstanceUid, job.ModelVersion);
        var marker = new SeriesCompletion(job.StudyInstanceUid, job.SeriesInstanceUid, derivedSeries, job.ModelVersion, job.Revision,
            job.SourceFingerprint, instances, failed, clock.GetUtcNow(), timings, await SummaryAsync(outcomes, written, resumed > 0, ct));
        // A newer revision finished meanwhile (another worker): its marker and files stand.
        if ((await store.ReadMarkerAsync(markerRef, ct)).Marker is { } newer && newer.Revision > job.Revision)
        {
            LogSuperseded(logger, job.SeriesInstanceUid, job.Revision, newer.Revision);
            return;
        }
        await store.WriteMarkerAsync(output, marker, ct);
        await DeleteOlderRevisionsAsync(job, output, ct);
        Series.Add(1, new KeyValuePair<string, object?>("modality", PipelineMetrics.ModalityLabel(job.Modality)), new KeyValuePair<string, object?>("model_version", job.ModelVersion));
        if (DateTimeOffset.TryParse(context.Headers.Get<string>(PipelineMetrics.SeriesSeenHeader), CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var seen))
            SeriesLatency.Record((marker.CompletedAt - seen).TotalSeconds, new KeyValuePair<string, object?>("priority", job.Priority.ToString()));
        LogDone(logger, job.SeriesInstanceUid, instances.Count, failed.Count, denoised, resumed, job.ModelVersion, model.Device, timings["denoise"]);

        if (instances.Count == 0)
        {
            var reason = $"no instance of the series could be denoised ({failed.Count} failed; see their failure records)";
            await publisher.PublishAsync(new SeriesNotDenoisable(job.StudyInstanceUid, job.SeriesInstanceUid, reason,
                new ObjectRef(output, FailureRecords.KeyOf(PipelineStage.Denoise, failed[0]))), ct);
            return;
        }
        await publisher.PublishAsync(new SeriesDenoised(job.StudyInstanceUid, job.SeriesInstanceUid, derivedSeries, job.ModelVersion,
            instances, markerRef, failed.Count, job.Revision), ct);
    }

    /// <summary>One source object after fetching: its parsed file, or why it could not be read.</summary>
    private sealed record FetchedInstance(DicomFile? File, string? FailureReason, string? ErrorType);

    private async Task<FetchedInstance[]> FetchAsync(DenoiseSeries job, int concurrency, CancellationToken ct)
    {
        var fetched = new FetchedInstance[job.Instances.Count];
        var readOptions = limits.Value.ToReadOptions();
        await Parallel.ForAsync(0, job.Instances.Count, new ParallelOptions { MaxDegreeOfParallelism = concurrency, CancellationToken = ct }, async (i, token) =>
        {
            var source = job.Instances[i];
            byte[] bytes;
            try
            {
                // Bounded: the download of an object past the object-size limit stops at the limit (no extra size request per object).
                bytes = await store.GetBytesUpToAsync(source.Bucket, source.Key, readOptions.MaxObjectBytes, token)
                    ?? throw readOptions.ObjectLargerThanLimit();
            }
            catch (ObjectNotFoundException e)
            {
                fetched[i] = new FetchedInstance(null, "the object no longer exists in the input bucket", e.GetType().Name);
                return;
            }
            catch (DicomLimitExceededException e)
            {
                fetched[i] = new FetchedInstance(null, $"refused: {e.Message}", e.GetType().Name);
                return;
            }
            try
            {
                fetched[i] = new FetchedInstance(DicomFile.Open(bytes, readOptions), null, null);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // Whatever the parser throws, the object itself is bad: it fails alone (storage errors above are retried).
                fetched[i] = new FetchedInstance(null, $"not a readable DICOM instance: {e.Message}", e.GetType().Name);
            }
        });
        return fetched;
    }

    /// <summary>The derived objects earlier deliveries of this job (continuations, redeliveries, republished jobs) already
    /// wrote, by instance: keys come from the derived SOP Instance UID, a hash of the source's and the model version, and
    /// both stores show an object whole or not at all, so an object found holds the bytes this delivery would write.</summary>
    private async Task<DenoisedInstance?[]> EarlierDeliveriesAsync(DenoiseSeries job, FetchedInstance[] sources, string modelVersion, string bucket, CancellationToken ct)
    {
        var existing = new HashSet<string>(StringComparer.Ordinal);
        await foreach (var listed in store.ListAsync(bucket, BucketLayout.RevisionFolder(job.StudyInstanceUid, job.SeriesInstanceUid, job.ModelVersion, job.Revision), ct))
            existing.Add(listed.Key);
        var found = new DenoisedInstance?[sources.Length];
        for (var i = 0; i < sources.Length && existing.Count > 0; i++)
        {
            if (sources[i].File?.Dataset.GetString(DicomTags.SOPInstanceUID) is not { Length: > 0 } sop) continue;
            var key = BucketLayout.DerivedInstance(job.StudyInstanceUid, job.SeriesInstanceUid, job.ModelVersion, job.Revision, DerivedInstance.InstanceUid(sop, modelVersion));
            if (existing.Contains(key)) found[i] = new DenoisedInstance(job.Instances[i], new ObjectRef(bucket, key));
        }
        return found;
    }

    private const string NoiseInputKey = "noise-sigma-input";
    private const string NoiseOutputKey = "noise-sigma-output";

    /// <summary>A sampled instance's noise figures, kept beside its derived object for the delivery that writes the marker.</summary>
    private static Dictionary<string, string>? NoiseMetadata(InstanceOutcome outcome) => double.IsFinite(outcome.NoiseInput)
        ? new() { [NoiseInputKey] = outcome.NoiseInput.ToString("R", CultureInfo.InvariantCulture), [NoiseOutputKey] = outcome.NoiseOutput.ToString("R", CultureInfo.InvariantCulture) }
        : null;

    /// <summary>Series figures for the marker: mean no-reference noise estimate before and after over a sample of instances
    /// (<see cref="DecodedSeries.NoiseSampleInstances"/>, from the denoiser's own images), in slice order; the figures of
    /// sampled instances an earlier delivery wrote come from their objects' metadata, so a resumed series gets the same.</summary>
    private async Task<Dictionary<string, double>> SummaryAsync(IReadOnlyList<InstanceOutcome?> outcomes, DenoisedInstance?[] written, bool resumed, CancellationToken ct)
    {
        var measured = new List<(double Input, double Output)>();
        for (var i = 0; i < outcomes.Count; i++)
        {
            if (outcomes[i] is { Derived: not null } outcome)
            {
                if (double.IsFinite(outcome.NoiseInput)) measured.Add((outcome.NoiseInput, outcome.NoiseOutput));
            }
            else if (resumed && written[i] is { } earlier && DecodedSeries.InNoiseSample(i, outcomes.Count)
                && (await store.TryStatAsync(earlier.Derived.Bucket, earlier.Derived.Key, ct))?.Metadata is { } metadata
                && metadata.TryGetValue(NoiseInputKey, out var input) && metadata.TryGetValue(NoiseOutputKey, out var output))
            {
                measured.Add((double.Parse(input, CultureInfo.InvariantCulture), double.Parse(output, CultureInfo.InvariantCulture)));
            }
        }
        return measured.Count == 0 ? [] : new Dictionary<string, double>
        {
            ["noise_sigma_input"] = measured.Average(o => o.Input),
            ["noise_sigma_output"] = measured.Average(o => o.Output),
        };
    }

    private async Task DeleteOlderRevisionsAsync(DenoiseSeries job, string bucket, CancellationToken ct)
    {
        if (job.Revision <= 1) return; // revisions start at 1: nothing older to list for (one listing per series saved)
        var folder = BucketLayout.DerivedInstancesFolder(job.StudyInstanceUid, job.SeriesInstanceUid, job.ModelVersion);
        await foreach (var old in store.ListAsync(bucket, folder, ct))
        {
            var revision = old.Key[folder.Length..].Split('/')[0];
            if (revision.Length > 1 && int.TryParse(revision.AsSpan(1), out var r) && r < job.Revision)
                await store.DeleteAsync(bucket, old.Key, ct);
        }
    }

    private async Task RecordFailureAsync(BoundedPublisher publisher, ObjectRef source, string reason, string errorType, DenoiseSeries job, string bucket, CancellationToken ct)
    {
        var record = await store.WriteAsync(bucket, new FailureRecord(source, PipelineStage.Denoise, reason, errorType, clock.GetUtcNow(), 1,
            job.StudyInstanceUid, job.SeriesInstanceUid, job.ModelVersion), ct);
        await publisher.PublishAsync(new InstanceFailed(source, PipelineStage.Denoise, reason, record, job.StudyInstanceUid, job.SeriesInstanceUid), ct);
        Failures.Add(1, new KeyValuePair<string, object?>("error_type", errorType));
        LogInstanceFailed(logger, ObjectId.Of(source), reason);
    }

    private static void Step(Dictionary<string, double> timings, string step, Stopwatch watch)
    {
        timings[step] = watch.Elapsed.TotalSeconds;
        StepSeconds.Record(watch.Elapsed.TotalSeconds, new KeyValuePair<string, object?>("step", step));
        watch.Restart();
    }

    [LoggerMessage(2001, LogLevel.Information, "Series {SeriesUid} revision {Revision} already done (marker revision {MarkerRevision}): acknowledged without work")]
    private static partial void LogAlreadyDone(ILogger logger, string seriesUid, int revision, int markerRevision);

    [LoggerMessage(2002, LogLevel.Information, "Series {SeriesUid} denoised: {Written} instances written, {Failed} failed ({Denoised} denoised in this delivery, {Resumed} by earlier ones), model {ModelVersion} on {Device}, engine {InferenceSeconds:F2} s")]
    private static partial void LogDone(ILogger logger, string seriesUid, int written, int failed, int denoised, int resumed, string modelVersion, string device, double inferenceSeconds);

    [LoggerMessage(2005, LogLevel.Information, "Series {SeriesUid} revision {Revision}: time budget {Budget} used up ({Denoised} instances denoised in this delivery, {Resumed} by earlier ones, {Left} left): continues in delivery {Continuation}")]
    private static partial void LogContinued(ILogger logger, string seriesUid, int revision, TimeSpan budget, int denoised, int resumed, int left, int continuation);

    [LoggerMessage(2003, LogLevel.Warning, "Instance {ObjectId} failed alone: {Reason} (see the failure record)")]
    private static partial void LogInstanceFailed(ILogger logger, string objectId, string reason);

    [LoggerMessage(2004, LogLevel.Information, "Series {SeriesUid} revision {Revision} superseded by revision {NewerRevision}: marker left alone")]
    private static partial void LogSuperseded(ILogger logger, string seriesUid, int revision, int newerRevision);
}
