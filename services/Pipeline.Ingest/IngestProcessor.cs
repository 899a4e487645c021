using MassTransit;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Pipeline.Contracts;
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
internal sealed partial class IngestProcessor
{
    /// <summary>Listed objects observed together, so their header reads overlap.</summary>
    private const int ListingBatch = 256;

    private readonly IObjectStore _store;
    private readonly BoundedPublisher _publisher;
    private readonly IngestOptions _options;
    private readonly TimeProvider _clock;
    private readonly ILogger _logger;
    private readonly SeriesAssembler _assembler;
    private readonly HeaderFetcher _headers;
    private readonly IngestFailures _failures;
    private readonly UploadManifests _manifests;
    private readonly JobPublisher _jobs;

    /// <summary>Its parts log as the processor (same category, same event ids).</summary>
    public IngestProcessor(
        IObjectStore store,
        IPublishEndpoint publisher,
        IOptions<IngestOptions> options,
        IOptions<StorageOptions> storage,
        ModelRegistry registry,
        IOptions<ModelRegistrySettings> registrySettings,
        TimeProvider clock,
        IOptions<LimitsOptions> limits,
        IOptions<BusOptions> bus,
        ILogger<IngestProcessor> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(storage);
        ArgumentNullException.ThrowIfNull(registrySettings);
        ArgumentNullException.ThrowIfNull(limits);
        ArgumentNullException.ThrowIfNull(bus);
        (_store, _options, _clock, _logger) = (store, options.Value, clock, logger);
        var output = storage.Value.OutputBucket;
        _assembler = new SeriesAssembler(_options.QuietPeriod, limits.Value.MaxSeriesPerStudy);
        _headers = new HeaderFetcher(store, _options.HeaderReadBytes, limits.Value.ToReadOptions());
        _publisher = new BoundedPublisher(publisher, bus.Value.PublishTimeout, clock);
        _failures = new IngestFailures(store, _publisher, output, clock, logger);
        var priorities = new JobPriorities(_options);
        _manifests = new UploadManifests(store, _options, priorities, _failures);
        _jobs = new JobPublisher(store, _publisher, _assembler, priorities, _failures, _options.ModelVersion, output,
            registry, registrySettings.Value.Model, _options.JobDeadline, limits.Value.MaxPixelsPerSeries, clock, logger);
    }

    /// <summary>Denoise jobs published since start.</summary>
    public int JobsPublished => _jobs.Published;

    /// <summary>
    /// Announces that a full listing of <paramref name="objectsListed"/> objects was observed and every series complete
    /// by then has its job (the embedded run knows from it when all input is published; operators see ingest's state).
    /// </summary>
    public Task AnnouncePassAsync(int objectsListed, CancellationToken ct) =>
        _publisher.PublishAsync(new IngestPassCompleted(_options.InputBucket, objectsListed, _assembler.SeriesCount, _assembler.SeriesWaiting,
            JobsPublished, _clock.GetUtcNow()), ct);

    /// <summary>When the next quiet period ends, so the owner knows when to call <see cref="PublishDueAsync"/>.</summary>
    public DateTimeOffset? NextDeadline => _assembler.NextQuietDeadline();

    /// <summary>Publishes a job for every complete series whose current instance set has no job yet (at most <paramref name="limit"/>).</summary>
    public Task<int> PublishDueAsync(CancellationToken ct, int limit = int.MaxValue) => _jobs.PublishDueAsync(ct, limit);

    /// <summary>Forgets the series published in their current form (a batch's processor, after each study folder).</summary>
    public void ForgetPublished() => _assembler.ForgetPublished();

    /// <summary>The job publisher's view for a batch: outstanding jobs, what it schedules and which jobs ended.</summary>
    public JobPublisher Jobs => _jobs;

    /// <summary>Publishes again every job still without its completion marker after <see cref="IngestOptions.JobDeadline"/>.</summary>
    public Task<int> RepublishOverdueAsync(CancellationToken ct) => _jobs.RepublishOverdueAsync(ct);

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
                return await _headers.ReadAsync(o.Object, o.Size, ct);
            }
            finally
            {
                reading.Release();
            }
        }
        // Listings (at start, every reconcile interval, and of a manifest's folder) meet objects already read.
        var reads = objects.Select(o => o.Object.Bucket == _options.InputBucket && IsStorable(o.Object) && !_options.IsMarker(o.Object)
            && !_assembler.HasSeen(o.Object, o.ETag) ? ReadAsync(o) : null).ToList();
        try
        {
            // Markers last: the listing of a marker's folder then finds this batch's instances already read.
            foreach (var i in Enumerable.Range(0, objects.Count).OrderBy(i => _options.IsMarker(objects[i].Object)))
                await ObserveAsync(objects[i], reads[i], ct);
        }
        finally
        {
            // A storage error ends the loop early (the caller retries): reads still running finish before their semaphore goes.
            foreach (Task read in reads.OfType<Task<InstanceHeader>>())
                await read.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    /// <summary>One object, its header read already started (null: a marker, another bucket, or already seen).</summary>
    private async Task ObserveAsync(ObjectCreatedEvent created, Task<InstanceHeader>? read, CancellationToken ct)
    {
        var (obj, etag) = (created.Object, created.ETag);
        if (obj.Bucket != _options.InputBucket) return;
        if (!IsStorable(obj))
        {
            // Its record is named after the key's hash (FailureRecords.KeyOf) and names the key inside.
            if (_assembler.ObserveFailed(obj, etag))
                await _failures.RecordAsync(obj, UnusableKeyReason, "UnusableObjectKey", null, null, ct);
            return;
        }
        if (_options.IsMarker(obj))
        {
            if (await _manifests.ReadNewAsync(obj, etag, ct) is not { } marker) return;
            _assembler.ObserveMarker(obj.Bucket, marker.Folder, marker.Expected);
            await ReconcileAsync(marker.Folder, ct); // objects whose events have not arrived yet
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
            if (_assembler.ObserveFailed(obj, etag))
                await _failures.RecordAsync(obj, $"not a readable DICOM instance: {e.Message}", e.InnerException!.GetType().Name, null, null, ct);
            return;
        }
        catch (ObjectNotFoundException)
        {
            return; // deleted between listing and reading: nothing to ingest
        }

        if (_assembler.WhyRefused(header) is { } refused)
        {
            if (_assembler.ObserveFailed(obj, etag))
                await _failures.RecordAsync(obj, refused, "LimitExceeded", header.StudyInstanceUid, header.SeriesInstanceUid, ct);
            return;
        }
        if (_assembler.ObserveInstance(header, etag, _clock.GetUtcNow()))
        {
            IngestTelemetry.InstancesRead.Add(1, new KeyValuePair<string, object?>("modality", PipelineMetrics.ModalityLabel(header.Modality)));
            LogInstance(_logger, ObjectId.Of(obj), header.Modality);
        }
    }

    /// <summary>Lists a folder (or the whole bucket) and observes every object in it; returns how many were listed.</summary>
    public async Task<int> ReconcileAsync(string prefix, CancellationToken ct)
    {
        using var activity = IngestTelemetry.Source.StartActivity("ingest.reconcile");
        var count = 0;
        var page = new List<ObjectCreatedEvent>();
        await foreach (var listed in _store.ListAsync(_options.InputBucket, prefix, ct))
        {
            page.Add(new ObjectCreatedEvent(new ObjectRef(_options.InputBucket, listed.Key), listed.Size, listed.ETag));
            count++;
            if (page.Count < ListingBatch) continue;
            await ObserveAllAsync(page, ct);
            page = [];
        }
        await ObserveAllAsync(page, ct);
        activity?.SetTag("pipeline.objects", count);
        return count;
    }

    /// <summary>
    /// Whether the object's key is one the stores can read. S3 holds keys they refuse ('a//b', backslashes, control
    /// characters, a local file named so): reading one would throw outside the per-object handling and every listing
    /// would meet it again.
    /// </summary>
    private static bool IsStorable(ObjectRef obj) => ObjectNames.IsValidKey(obj.Key);

    private const string UnusableKeyReason =
        "the object's key is not a valid object name (empty, '.' or '..' segment, backslash, control character or over 1024 bytes), so it cannot be read; rename it";

    [LoggerMessage(1001, LogLevel.Debug, "Read header of object {ObjectId} ({Modality})")]
    private static partial void LogInstance(ILogger logger, string objectId, string modality);
}
