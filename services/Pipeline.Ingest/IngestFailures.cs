using Microsoft.Extensions.Logging;
using Pipeline.Contracts;
using Pipeline.Hosting;
using Pipeline.Storage;

namespace Pipeline.Ingest;

/// <summary>Records an object that fails at ingest: the failure record in the output bucket, then <see cref="InstanceFailed"/>.</summary>
internal sealed partial class IngestFailures(IObjectStore store, BoundedPublisher publisher, string outputBucket, TimeProvider clock, ILogger logger)
{
    /// <param name="loggedReason">The reason as logged, when <paramref name="reason"/> names an object key (keys may hold patient names).</param>
    public async Task RecordAsync(ObjectRef source, string reason, string errorType, string? study, string? series, CancellationToken ct,
        string? loggedReason = null)
    {
        var record = await store.WriteAsync(outputBucket,
            new FailureRecord(source, PipelineStage.Ingest, reason, errorType, clock.GetUtcNow(), 1, study, series), ct);
        await publisher.PublishAsync(new InstanceFailed(source, PipelineStage.Ingest, reason, record, study, series), ct);
        IngestTelemetry.Failures.Add(1, new KeyValuePair<string, object?>("error_type", errorType));
        LogFailure(logger, ObjectId.Of(source), loggedReason ?? reason);
    }

    [LoggerMessage(1002, LogLevel.Warning, "Ingest failure for object {ObjectId}: {Reason} (see the failure record)")]
    private static partial void LogFailure(ILogger logger, string objectId, string reason);
}
