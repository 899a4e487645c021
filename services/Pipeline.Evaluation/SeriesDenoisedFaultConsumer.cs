using MassTransit;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Pipeline.Contracts;
using Pipeline.Hosting;
using Pipeline.Storage;

namespace Pipeline.Evaluation;

/// <summary>
/// A SeriesDenoised that failed every retry (e.g. the store was down longer than the retries last) or was refused is
/// in the "evaluation_error" queue; this writes its failure record (stage Evaluation, keyed by the series' first
/// source instance, as the evaluator's own, which it leaves alone), so the reason is where operators look, not only in
/// the queue's headers.
/// </summary>
internal sealed partial class SeriesDenoisedFaultConsumer(
    IObjectStore store,
    IOptions<StorageOptions> storage,
    TimeProvider clock,
    ILogger<SeriesDenoisedFaultConsumer> logger) : IConsumer<Fault<SeriesDenoised>>
{
    public async Task Consume(ConsumeContext<Fault<SeriesDenoised>> context)
    {
        // The evaluator wrote this one's record itself, with the reason per pair: keep it.
        if (context.Message.Exceptions.Any(e => e.ExceptionType == typeof(SeriesNotEvaluableException).FullName)) return;
        var job = context.Message.Message;
        var source = job.Instances.Count > 0 ? job.Instances[0].Source : job.CompletionMarker;
        var (record, _) = await store.WriteFaultAsync(storage.Value.OutputBucket, context.Message, (reason, errorType) => new FailureRecord(
            source, PipelineStage.Evaluation, reason, errorType, clock.GetUtcNow(), 1, job.StudyInstanceUid, job.SourceSeriesInstanceUid, job.ModelVersion),
            context.CancellationToken);
        LogFaulted(logger, job.SourceSeriesInstanceUid, record.Reason);
    }

    [LoggerMessage(3006, LogLevel.Error, "Evaluation of series {SeriesUid} is in the error queue: {Reason} (see the failure record)")]
    private static partial void LogFaulted(ILogger logger, string seriesUid, string reason);
}
