using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Text.Json;
using MassTransit;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Pipeline.Contracts;
using Pipeline.Denoising.Models;
using Pipeline.Hosting;
using Pipeline.Registry;
using Pipeline.Ingest.Notifications;
using Pipeline.Ingest.Series;
using Pipeline.Storage;

namespace Pipeline.Ingest;

/// <summary>
/// The ingest logic: reads each new object's header, groups instances into series, and publishes one
/// job per complete series. Every entry point is idempotent (events and listings may repeat). Calls
/// must be serialised by the owner (<see cref="IngestWorker"/>).
/// </summary>
public sealed partial class IngestProcessor(
    IObjectStore store,
    IPublishEndpoint publisher,
    IOptions<IngestOptions> options,
    IOptions<StorageOptions> storage,
    ModelRegistry registry,
    IOptions<ModelRegistrySettings> registrySettings,
    TimeProvider clock,
    ILogger<IngestProcessor> logger)
{
    public static readonly ActivitySource Activity = new("Pipeline.Ingest");
    private static readonly Meter Meter = new("Pipeline.Ingest");
    private static readonly Counter<long> InstancesRead = Meter.CreateCounter<long>("pipeline.ingest.instances", description: "Instances whose header was read");
    private static readonly Counter<long> Failures = Meter.CreateCounter<long>("pipeline.ingest.failures", description: "Objects recorded as failed at ingest");
    private static readonly Counter<long> JobsCounter = Meter.CreateCounter<long>("pipeline.ingest.jobs", description: "Denoise jobs published");

    private readonly IngestOptions _options = options.Value;
    private readonly string _outputBucket = storage.Value.OutputBucket;
    private readonly SeriesAssembler _assembler = new(options.Value.QuietPeriod);
    private readonly Dictionary<string, JobPriority> _folderPriority = new(StringComparer.Ordinal);
    private readonly Dictionary<ObjectRef, string?> _seenMarkers = [];

    /// <summary>Denoise jobs published since start (embedded mode waits for each to finish).</summary>
    public int JobsPublished { get; private set; }

    /// <summary>When the next quiet period ends, so the owner knows when to call <see cref="PublishDueAsync"/>.</summary>
    public DateTimeOffset? NextDeadline => _assembler.NextQuietDeadline();

    /// <summary>Handles one object of the input bucket (from an event or a listing).</summary>
    public Task ObserveAsync(ObjectRef obj, string? etag, long? size, CancellationToken ct) =>
        ObserveAllAsync([new ObjectCreatedEvent(obj, size, etag)], ct);

    /// <summary>
    /// Handles objects of the input bucket, in order but markers last. Their header reads (one ranged GET each, the slow
    /// part) run up to <see cref="IngestOptions.HeaderReadConcurrency"/> at a time; the series state changes one object at
    /// a time on the caller.
    /// </summary>
    public async Task ObserveAllAsync(IReadOnlyList<ObjectCreatedEvent> objects, CancellationToken ct)
    {
        using var reading = new SemaphoreSlim(_options.HeaderReadConcurrency);
        async Task<InstanceHeader> ReadAsync(ObjectCreatedEvent o)
        {
            await reading.WaitAsync(ct);
            try
            {
                return await ReadHeaderAsync(o.Object, o.Size, ct);
            }
            finally
            {
                reading.Release();
            }
        }
        // Listings (at start, every reconcile interval, and of a manifest's folder) meet objects already read.
        var reads = objects.Select(o => o.Object.Bucket == _options.InputBucket && !IsMarker(o.Object) && !_assembler.HasSeen(o.Object, o.ETag)
            ? ReadAsync(o) : null).ToList();
        try
        {
            // Markers last: the listing of a marker's folder then finds this batch's instances already read.
            foreach (var i in Enumerable.Range(0, objects.Count).OrderBy(i => IsMarker(objects[i].Object)))
                await ObserveAsync(objects[i], reads[i], ct);
        }
        finally
        {
            // A storage error ends the loop early (the caller retries): reads still running finish before their semaphore goes.
            foreach (Task read in reads.OfType<Task<InstanceHeader>>())
                await read.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    private bool IsMarker(ObjectRef obj) => Path.GetFileName(obj.Key) == _options.MarkerFileName;

    /// <summary>One object, its header read already started (null: a marker, another bucket, or already seen).</summary>
    private async Task ObserveAsync(ObjectCreatedEvent created, Task<InstanceHeader>? read, CancellationToken ct)
    {
        var (obj, etag) = (created.Object, created.ETag);
        if (obj.Bucket != _options.InputBucket) return;
        if (IsMarker(obj))
        {
            // Seen before the folder is listed: the listing meets the marker again and must stop there.
            if (_seenMarkers.TryGetValue(obj, out var seen) && seen == etag) return;
            _seenMarkers[obj] = etag;
            await ObserveMarkerAsync(obj, ct);
            return;
        }
        if (read is null) return;

        InstanceHeader header;
        try
        {
            header = await read;
        }
        catch (UnreadableInstanceException e)
        {
            if (_assembler.ObserveUnreadable(obj, etag))
                await RecordFailureAsync(obj, $"not a readable DICOM instance: {e.Message}", e.InnerException!.GetType().Name, null, null, ct);
            return;
        }
        catch (ObjectNotFoundException)
        {
            return; // deleted between listing and reading: nothing to ingest
        }

        if (_assembler.ObserveInstance(header, etag, clock.GetUtcNow()))
        {
            InstancesRead.Add(1, new KeyValuePair<string, object?>("modality", header.Modality));
            LogInstance(logger, ObjectId.Of(obj), header.Modality);
        }
    }

    /// <summary>Lists a folder (or the whole bucket) and observes every object in it.</summary>
    public async Task ReconcileAsync(string prefix, CancellationToken ct)
    {
        using var activity = Activity.StartActivity("ingest.reconcile");
        var count = 0;
        var page = new List<ObjectCreatedEvent>();
        await foreach (var listed in store.ListAsync(_options.InputBucket, prefix, ct))
        {
            page.Add(new ObjectCreatedEvent(new ObjectRef(_options.InputBucket, listed.Key), listed.Size, listed.ETag));
            count++;
            if (page.Count < ListingBatch) continue;
            await ObserveAllAsync(page, ct);
            page = [];
        }
        await ObserveAllAsync(page, ct);
        activity?.SetTag("pipeline.objects", count);
    }

    /// <summary>Listed objects observed together, so their header reads overlap.</summary>
    private const int ListingBatch = 256;

    /// <summary>Publishes a job for every complete series whose current instance set has no job yet.</summary>
    public async Task<int> PublishDueAsync(CancellationToken ct)
    {
        var published = 0;
        string? modelVersion = null;
        foreach (var series in _assembler.Due(clock.GetUtcNow()))
        {
            modelVersion ??= await ModelVersionAsync(ct);
            using var activity = Activity.StartActivity("ingest.series-complete", ActivityKind.Producer, StudyTrace.ParentOf(series.Key.StudyInstanceUid));
            activity?.SetTag("pipeline.study", series.Key.StudyInstanceUid);
            activity?.SetTag("pipeline.series", series.Key.SeriesInstanceUid);
            activity?.SetTag("pipeline.instances", series.Instances.Count);
            var (study, uid) = (series.Key.StudyInstanceUid, series.Key.SeriesInstanceUid);

            foreach (var skipped in series.NotDenoisable)
                await RecordFailureAsync(skipped.Object, skipped.NotDenoisableReason!, "NotDenoisable", study, uid, ct);

            if (series.Instances.Count == 0)
            {
                var reason = series.NotDenoisable.Select(i => i.NotDenoisableReason).FirstOrDefault() ?? "no instances";
                var record = BucketLayout.FailureRecord(PipelineStage.Ingest, series.NotDenoisable[0].Object);
                await publisher.Publish(new SeriesNotDenoisable(study, uid, reason, new ObjectRef(_outputBucket, record)), ct);
                _assembler.MarkPublished(series);
                continue;
            }

            var revision = await RevisionToPublishAsync(series, modelVersion, ct);
            if (revision is null)
            {
                LogAlreadyDone(logger, uid, modelVersion);
                _assembler.MarkPublished(series);
                continue;
            }

            var job = new DenoiseSeries(study, uid, series.Instances.Select(i => i.Object).ToList(),
                modelVersion, PriorityOf(series), series.Modality, revision.Value, series.Fingerprint);
            await publisher.Publish(job, context => context.TrySetPriority((byte)job.Priority), ct);
            _assembler.MarkPublished(series with { Revision = revision.Value });
            JobsCounter.Add(1, new KeyValuePair<string, object?>("priority", job.Priority.ToString()));
            JobsPublished++;
            LogPublished(logger, uid, job.Instances.Count, revision.Value, job.Priority);
            published++;
        }
        return published;
    }

    /// <summary>
    /// Null when the completion marker for this model version already covers exactly this instance set
    /// (done in an earlier run); otherwise the revision to publish, above any revision already written.
    /// </summary>
    private async Task<int?> RevisionToPublishAsync(CompleteSeries series, string modelVersion, CancellationToken ct)
    {
        var found = await store.ReadMarkerAsync(
            CompletionMarkers.Of(_outputBucket, series.Key.StudyInstanceUid, series.Key.SeriesInstanceUid, modelVersion), ct);
        if (!found.Exists) return series.Revision;
        var marker = found.Marker; // null when unreadable: treated as "changed", the series is redone
        if (marker?.SourceFingerprint == series.Fingerprint) return null;
        return Math.Max(series.Revision, (marker?.Revision ?? 0) + 1);
    }

    /// <summary>
    /// The pinned version, else the registry's current one (publishing the bundled default model as
    /// version 1 on a fresh installation, as the workers do).
    /// </summary>
    private async Task<string> ModelVersionAsync(CancellationToken ct) =>
        !string.IsNullOrWhiteSpace(_options.ModelVersion)
            ? _options.ModelVersion
            : (await registry.EnsureCurrentAsync(registrySettings.Value.Model, DenoisingModel.DefaultFolder, ct)).ToString();

    /// <summary>
    /// Reads the header from the first bytes when the object is large, else (or when that is not
    /// enough) from the whole object. Storage errors propagate (the loop retries them); anything the
    /// parser throws means the object itself is bad.
    /// </summary>
    private async Task<InstanceHeader> ReadHeaderAsync(ObjectRef obj, long? size, CancellationToken ct)
    {
        if (size > _options.HeaderReadBytes)
        {
            var head = await store.GetBytesAsync(obj.Bucket, obj.Key, new ByteRange(0, _options.HeaderReadBytes), ct);
            try
            {
                var header = Parse(obj, head);
                if (header.NotDenoisableReason is null) return header;
            }
            catch (UnreadableInstanceException)
            {
            }
            // A parse error or "no pixel data" may only mean the header is longer than the range.
        }
        return Parse(obj, await store.GetBytesAsync(obj.Bucket, obj.Key, cancellationToken: ct));
    }

    private static InstanceHeader Parse(ObjectRef obj, byte[] bytes)
    {
        try
        {
            return InstanceHeaderReader.Read(obj, new MemoryStream(bytes, writable: false));
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            throw new UnreadableInstanceException(e.Message, e);
        }
    }

    /// <summary>The object's bytes are not a usable DICOM instance (whatever the parser threw).</summary>
    private sealed class UnreadableInstanceException(string message, Exception inner) : Exception(message, inner);

    private async Task ObserveMarkerAsync(ObjectRef marker, CancellationToken ct)
    {
        var folder = marker.Key[..(marker.Key.Length - _options.MarkerFileName.Length)];
        IReadOnlyCollection<string>? expected = null;
        try
        {
            var manifest = await store.GetBytesAsync(marker.Bucket, marker.Key, cancellationToken: ct);
            if (manifest.Length > 0)
            {
                var parsed = JsonSerializer.Deserialize<UploadManifest>(manifest, ManifestJson) ?? new UploadManifest();
                expected = parsed.Instances?.Select(k => folder + k).ToList();
                if (Enum.TryParse<JobPriority>(parsed.Priority, ignoreCase: true, out var priority))
                    _folderPriority[folder] = priority;
            }
        }
        catch (JsonException e)
        {
            await RecordFailureAsync(marker, $"manifest is not valid JSON ({e.Message}); treated as a marker without a list", nameof(JsonException), null, null, ct);
        }
        _assembler.ObserveMarker(marker.Bucket, folder, expected);
        await ReconcileAsync(folder, ct); // objects whose events have not arrived yet
    }

    private JobPriority PriorityOf(CompleteSeries series)
    {
        var key = series.Instances[0].Object.Key;
        if (_options.UrgentPrefixes.Any(p => key.StartsWith(p, StringComparison.Ordinal))) return JobPriority.Urgent;
        var byManifest = _folderPriority.Where(f => key.StartsWith(f.Key, StringComparison.Ordinal))
            .OrderByDescending(f => f.Key.Length).Select(f => (JobPriority?)f.Value).FirstOrDefault();
        return byManifest ?? _options.DefaultPriority;
    }

    private async Task RecordFailureAsync(ObjectRef source, string reason, string errorType, string? study, string? series, CancellationToken ct)
    {
        var record = await store.WriteAsync(_outputBucket,
            new FailureRecord(source, PipelineStage.Ingest, reason, errorType, clock.GetUtcNow(), 1, study, series), ct);
        await publisher.Publish(new InstanceFailed(source, PipelineStage.Ingest, reason, record, study, series), ct);
        Failures.Add(1);
        LogFailure(logger, ObjectId.Of(source), reason);
    }

    private static readonly JsonSerializerOptions ManifestJson = new() { PropertyNameCaseInsensitive = true };

    /// <summary>The optional JSON body of the uploader's marker object.</summary>
    private sealed record UploadManifest(List<string>? Instances = null, string? Priority = null);

    [LoggerMessage(1001, LogLevel.Debug, "Read header of object {ObjectId} ({Modality})")]
    private static partial void LogInstance(ILogger logger, string objectId, string modality);

    [LoggerMessage(1002, LogLevel.Warning, "Ingest failure for object {ObjectId}: {Reason} (see the failure record)")]
    private static partial void LogFailure(ILogger logger, string objectId, string reason);

    [LoggerMessage(1003, LogLevel.Information, "Published denoise job for series {SeriesUid}: {Count} instances, revision {Revision}, priority {Priority}")]
    private static partial void LogPublished(ILogger logger, string seriesUid, int count, int revision, JobPriority priority);

    [LoggerMessage(1004, LogLevel.Information, "Series {SeriesUid} already done for model {ModelVersion}: skipped")]
    private static partial void LogAlreadyDone(ILogger logger, string seriesUid, string modelVersion);
}
