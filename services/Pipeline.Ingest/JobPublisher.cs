using System.Diagnostics;
using MassTransit;
using Microsoft.Extensions.Logging;
using Pipeline.Contracts;
using Pipeline.Denoising.Models;
using Pipeline.Hosting;
using Pipeline.Ingest.Series;
using Pipeline.Registry;
using Pipeline.Storage;

namespace Pipeline.Ingest;

/// <summary>
/// Publishes one <see cref="DenoiseSeries"/> job per complete series whose current instance set has none yet, at the
/// revision its completion marker calls for (none when the marker already covers it), or <see cref="SeriesNotDenoisable"/>.
/// Remembers each job until its marker is seen, and publishes it again when it has none after the job deadline (a broker
/// that lost its queues lost it).
/// </summary>
internal sealed partial class JobPublisher(
    IObjectStore store,
    BoundedPublisher publisher,
    SeriesAssembler assembler,
    JobPriorities priorities,
    IngestFailures failures,
    string? pinnedModelVersion,
    string outputBucket,
    ModelRegistry registry,
    string modelName,
    TimeSpan jobDeadline,
    long maxPixelsPerSeries,
    TimeProvider clock,
    ILogger logger)
{
    /// <summary>The last job of each series whose completion marker has not been seen yet, and when it was (last) sent.</summary>
    private readonly Dictionary<SeriesKey, SentJob> _awaitingMarker = [];

    /// <summary>Denoise jobs published since start.</summary>
    public int Published { get; private set; }

    /// <summary>Jobs published whose completion marker has not been seen yet.</summary>
    public int Outstanding => _awaitingMarker.Count;

    /// <summary>
    /// Called for each series handed to a job (with the job) or found done already (job null): what a batch counts as
    /// expected.
    /// </summary>
    public Action<CompleteSeries, DenoiseSeries?>? Scheduled { get; set; }

    /// <summary>
    /// Publishes a job for every complete series whose current instance set has no job yet, at most
    /// <paramref name="limit"/> jobs (the rest stay due for the next call).
    /// </summary>
    public async Task<int> PublishDueAsync(CancellationToken ct, int limit = int.MaxValue)
    {
        var published = 0;
        string? modelVersion = null;
        foreach (var series in assembler.Due(clock.GetUtcNow()))
        {
            if (published >= limit) break;
            modelVersion ??= await ModelVersionAsync(ct);
            using var activity = StartSeriesActivity(series.Key, series.Instances.Count);
            var (study, uid) = (series.Key.StudyInstanceUid, series.Key.SeriesInstanceUid);
            _awaitingMarker.Remove(series.Key); // the series' current state replaces whatever job it had

            foreach (var skipped in series.NotDenoisable)
                await failures.RecordAsync(skipped.Object, skipped.NotDenoisableReason!, "NotDenoisable", study, uid, ct);
            foreach (var duplicate in series.Duplicates)
                await failures.RecordAsync(duplicate.Instance.Object, duplicate.Reason, "DuplicateSopInstanceUid", study, uid, ct,
                    loggedReason: $"duplicate SOP Instance UID {duplicate.Instance.SopInstanceUid}: object {ObjectId.Of(duplicate.Kept)} was kept");

            if (series.Instances.Count == 0)
            {
                var reason = series.NotDenoisable.Select(i => i.NotDenoisableReason).FirstOrDefault() ?? "no instances";
                await PublishNotDenoisableAsync(series, reason, series.NotDenoisable[0].Object, ct);
                continue;
            }
            var pixels = series.Instances.Sum(i => i.Pixels);
            if (pixels > maxPixelsPerSeries)
            {
                var reason = $"its series has {pixels} pixels in {series.Instances.Count} instances, over Limits:MaxPixelsPerSeries ({maxPixelsPerSeries})";
                foreach (var instance in series.Instances)
                    await failures.RecordAsync(instance.Object, reason, "LimitExceeded", study, uid, ct);
                await PublishNotDenoisableAsync(series, reason, series.Instances[0].Object, ct);
                continue;
            }

            var revision = await RevisionToPublishAsync(series, modelVersion, ct);
            if (revision is null)
            {
                LogAlreadyDone(logger, uid, modelVersion);
                assembler.MarkPublished(series);
                Scheduled?.Invoke(series, null);
                continue;
            }

            var job = new DenoiseSeries(study, uid, series.Instances.Select(i => i.Object).ToList(),
                modelVersion, priorities.Of(series), series.Modality, revision.Value, series.Fingerprint);
            await SendAsync(series.Key, job, series.LastChange, ct);
            assembler.MarkPublished(series with { Revision = revision.Value });
            Scheduled?.Invoke(series, job);
            IngestTelemetry.Jobs.Add(1, new KeyValuePair<string, object?>("priority", job.Priority.ToString()));
            Published++;
            LogPublished(logger, uid, job.Instances.Count, revision.Value, job.Priority);
            published++;
        }
        return published;
    }

    /// <summary>Announces a series that gets no job, pointing at the failure record of <paramref name="recorded"/>.</summary>
    private async Task PublishNotDenoisableAsync(CompleteSeries series, string reason, ObjectRef recorded, CancellationToken ct)
    {
        await publisher.PublishAsync(new SeriesNotDenoisable(series.Key.StudyInstanceUid, series.Key.SeriesInstanceUid, reason,
            new ObjectRef(outputBucket, FailureRecords.KeyOf(PipelineStage.Ingest, recorded))), ct);
        assembler.MarkPublished(series);
    }

    /// <summary>
    /// Publishes again, unchanged (same revision and fingerprint), every job sent at least the job deadline ago whose
    /// completion marker does not cover it yet: the broker may have lost it. Each waits a whole deadline again before its
    /// next resend, so a job that was only slow costs one duplicate per deadline, acknowledged without work once done.
    /// </summary>
    public async Task<int> RepublishOverdueAsync(CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var republished = 0;
        foreach (var (key, sent) in _awaitingMarker.Where(p => now - p.Value.At >= jobDeadline).ToList())
        {
            var job = sent.Job;
            var found = await store.ReadMarkerAsync(CompletionMarkers.Of(outputBucket, job.StudyInstanceUid, job.SeriesInstanceUid, job.ModelVersion), ct);
            if (found.Marker is { } marker && marker.Covers(job))
            {
                _awaitingMarker.Remove(key);
                continue;
            }

            using var activity = StartSeriesActivity(key, job.Instances.Count);
            activity?.SetTag("pipeline.republished", true);
            await SendAsync(key, job, sent.SeriesSeen, ct);
            IngestTelemetry.JobsRepublished.Add(1);
            LogRepublished(logger, job.SeriesInstanceUid, job.Revision, (now - sent.At).TotalMinutes);
            republished++;
        }
        return republished;
    }

    /// <summary>
    /// Forgets every outstanding job that ended: its completion marker covers it (returned with the marker), or its
    /// series failed as a whole (a denoise failure record of its first instance written since it was sent; returned with
    /// the record). One marker read per outstanding job.
    /// </summary>
    public async Task<IReadOnlyList<(DenoiseSeries Job, SeriesCompletion? Marker, FailureRecord? Failure)>> CollectEndedAsync(CancellationToken ct)
    {
        var ended = new List<(DenoiseSeries, SeriesCompletion?, FailureRecord?)>();
        foreach (var (key, sent) in _awaitingMarker.ToList())
        {
            var job = sent.Job;
            var found = await store.ReadMarkerAsync(CompletionMarkers.Of(outputBucket, job.StudyInstanceUid, job.SeriesInstanceUid, job.ModelVersion), ct);
            FailureRecord? failure = null;
            if (found.Marker is not { } marker || !marker.Covers(job))
            {
                failure = await store.ReadFailureAsync(outputBucket, FailureRecords.KeyOf(PipelineStage.Denoise, job.Instances[0]), ct);
                if (failure is null || failure.OccurredAt < sent.At || failure.SeriesInstanceUid != job.SeriesInstanceUid) continue;
            }
            _awaitingMarker.Remove(key);
            ended.Add((job, failure is null ? found.Marker : null, failure));
        }
        return ended;
    }

    /// <summary>The span of publishing a series' job, in its study's trace.</summary>
    private static Activity? StartSeriesActivity(SeriesKey key, int instances)
    {
        var activity = IngestTelemetry.Source.StartActivity("ingest.series-complete", ActivityKind.Producer, StudyTrace.ParentOf(key.StudyInstanceUid));
        activity?.SetTag("pipeline.study", key.StudyInstanceUid);
        activity?.SetTag("pipeline.series", key.SeriesInstanceUid);
        activity?.SetTag("pipeline.instances", instances);
        return activity;
    }

    /// <summary>Publishes a job at its priority, with when its series was last seen changing, and remembers it until its marker is seen.</summary>
    private async Task SendAsync(SeriesKey key, DenoiseSeries job, DateTimeOffset seriesSeen, CancellationToken ct)
    {
        await publisher.PublishAsync(job, ct, context =>
        {
            context.TrySetPriority((byte)job.Priority);
            context.Headers.Set(PipelineMetrics.SeriesSeenHeader, seriesSeen.ToString("O", System.Globalization.CultureInfo.InvariantCulture));
        });
        _awaitingMarker[key] = new SentJob(job, clock.GetUtcNow(), seriesSeen);
    }

    /// <summary>
    /// Null when the completion marker for this model version already covers exactly this instance set
    /// (done in an earlier run); otherwise the revision to publish, above any revision already written.
    /// </summary>
    private async Task<int?> RevisionToPublishAsync(CompleteSeries series, string modelVersion, CancellationToken ct)
    {
        var found = await store.ReadMarkerAsync(
            CompletionMarkers.Of(outputBucket, series.Key.StudyInstanceUid, series.Key.SeriesInstanceUid, modelVersion), ct);
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
        !string.IsNullOrWhiteSpace(pinnedModelVersion)
            ? pinnedModelVersion
            : (await registry.EnsureCurrentAsync(modelName, DenoisingModel.DefaultFolder, ct)).ToString();

    [LoggerMessage(1003, LogLevel.Information, "Published denoise job for series {SeriesUid}: {Count} instances, revision {Revision}, priority {Priority}")]
    private static partial void LogPublished(ILogger logger, string seriesUid, int count, int revision, JobPriority priority);

    [LoggerMessage(1006, LogLevel.Warning, "Denoise job for series {SeriesUid} revision {Revision} has no completion marker {Minutes:F1} min after it was sent (Ingest:JobDeadline): published again, the broker may have lost it")]
    private static partial void LogRepublished(ILogger logger, string seriesUid, int revision, double minutes);

    [LoggerMessage(1004, LogLevel.Information, "Series {SeriesUid} already done for model {ModelVersion}: skipped")]
    private static partial void LogAlreadyDone(ILogger logger, string seriesUid, string modelVersion);

    private sealed record SentJob(DenoiseSeries Job, DateTimeOffset At, DateTimeOffset SeriesSeen);
}
