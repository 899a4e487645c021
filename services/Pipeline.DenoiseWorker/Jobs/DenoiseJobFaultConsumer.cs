using MassTransit;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Pipeline.Contracts;
using Pipeline.Hosting;
using Pipeline.Storage;

namespace Pipeline.DenoiseWorker.Jobs;

/// <summary>
/// A job that failed every in-process retry (or was refused, e.g. a newer contract version) is in the error queue
/// with MassTransit's fault headers; this writes the durable failure record beside it (keyed by the job's first
/// instance, stage Denoise) so operators find the reason where they look, and announces it.
/// </summary>
internal sealed partial class DenoiseJobFaultConsumer(
    IObjectStore store,
    IOptions<StorageOptions> storage,
    IOptions<BusOptions> bus,
    TimeProvider clock,
    ILogger<DenoiseJobFaultConsumer> logger) : IConsumer<Fault<DenoiseSeries>>
{
    public async Task Consume(ConsumeContext<Fault<DenoiseSeries>> context)
    {
        var job = context.Message.Message;
        if (job.Instances.Count == 0) return;
        var source = job.Instances[0];
        var (record, at) = await store.WriteFaultAsync(storage.Value.OutputBucket, context.Message, (reason, errorType) => new FailureRecord(
            source, PipelineStage.Denoise, reason, errorType, clock.GetUtcNow(), 1, job.StudyInstanceUid, job.SeriesInstanceUid, job.ModelVersion), context.CancellationToken);
        await new BoundedPublisher(context, bus.Value.PublishTimeout, clock).PublishAsync(
            new InstanceFailed(source, PipelineStage.Denoise, record.Reason, at, job.StudyInstanceUid, job.SeriesInstanceUid), context.CancellationToken);
        LogJobFailed(logger, job.SeriesInstanceUid, ObjectId.Of(source), record.Reason);
    }

    [LoggerMessage(2201, LogLevel.Error, "Denoise job for series {SeriesUid} is in the error queue: {Reason} (failure record for object {ObjectId})")]
    private static partial void LogJobFailed(ILogger logger, string seriesUid, string objectId, string reason);
}
