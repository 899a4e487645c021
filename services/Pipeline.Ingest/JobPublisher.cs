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
/// </summary>
internal sealed partial class JobPublisher(
    IObjectStore store,
    IPublishEndpoint publisher,
    SeriesAssembler assembler,
    JobPriorities priorities,
    IngestFailures failures,
    string? pinnedModelVersion,
    string outputBucket,
    ModelRegistry registry,
    string modelName,
    TimeProvider clock,
    ILogger logger)
{
    /// <summary>Denoise jobs published since start.</summary>
    public int Published { get; private set; }

    /// <summary>Publishes a job for every complete series whose current instance set has no job yet.</summary>
    public async Task<int> PublishDueAsync(CancellationToken ct)
    {
        var published = 0;
        string? modelVersion = null;
        foreach (var series in assembler.Due(clock.GetUtcNow()))
        {
            modelVersion ??= await ModelVersionAsync(ct);
            using var activity = IngestTelemetry.Source.StartActivity("ingest.series-complete", ActivityKind.Producer, StudyTrace.ParentOf(series.Key.StudyInstanceUid));
            activity?.SetTag("pipeline.study", series.Key.StudyInstanceUid);
            activity?.SetTag("pipeline.series", series.Key.SeriesInstanceUid);
            activity?.SetTag("pipeline.instances", series.Instances.Count);
            var (study, uid) = (series.Key.StudyInstanceUid, series.Key.SeriesInstanceUid);

            foreach (var skipped in series.NotDenoisable)
                await failures.RecordAsync(skipped.Object, skipped.NotDenoisableReason!, "NotDenoisable", study, uid, ct);
            foreach (var duplicate in series.Duplicates)
                await failures.RecordAsync(duplicate.Instance.Object, duplicate.Reason, "DuplicateSopInstanceUid", study, uid, ct,
                    loggedReason: $"duplicate SOP Instance UID {duplicate.Instance.SopInstanceUid}: object {ObjectId.Of(duplicate.Kept)} was kept");

            if (series.Instances.Count == 0)
            {
                var reason = series.NotDenoisable.Select(i => i.NotDenoisableReason).FirstOrDefault() ?? "no instances";
                var record = BucketLayout.FailureRecord(PipelineStage.Ingest, series.NotDenoisable[0].Object);
                await publisher.Publish(new SeriesNotDenoisable(study, uid, reason, new ObjectRef(outputBucket, record)), ct);
                assembler.MarkPublished(series);
                continue;
            }

            var revision = await RevisionToPublishAsync(series, modelVersion, ct);
            if (revision is null)
            {
                LogAlreadyDone(logger, uid, modelVersion);
                assembler.MarkPublished(series);
                continue;
            }

            var job = new DenoiseSeries(study, uid, series.Instances.Select(i => i.Object).ToList(),
                modelVersion, priorities.Of(series), series.Modality, revision.Value, series.Fingerprint);
            await publisher.Publish(job, context => context.TrySetPriority((byte)job.Priority), ct);
            assembler.MarkPublished(series with { Revision = revision.Value });
            IngestTelemetry.Jobs.Add(1, new KeyValuePair<string, object?>("priority", job.Priority.ToString()));
            Published++;
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

    [LoggerMessage(1004, LogLevel.Information, "Series {SeriesUid} already done for model {ModelVersion}: skipped")]
    private static partial void LogAlreadyDone(ILogger logger, string seriesUid, string modelVersion);
}
