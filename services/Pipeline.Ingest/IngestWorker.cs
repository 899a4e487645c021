using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Pipeline.Ingest.Notifications;
using Pipeline.Storage;

namespace Pipeline.Ingest;

/// <summary>
/// The one loop that owns ingest state: drains bucket events, lists the whole input bucket every
/// reconcile interval (nothing is missed if events are lost or the service was down) and then publishes
/// again jobs overdue for their completion marker, and publishes jobs when series complete. A storage or broker error is logged and retried, never fatal.
/// </summary>
internal sealed partial class IngestWorker(
    IngestProcessor processor,
    IngestInbox inbox,
    IObjectStore store,
    IOptions<IngestOptions> options,
    IOptions<StorageOptions> storage,
    TimeProvider clock,
    ILogger<IngestWorker> logger) : BackgroundService
{
    private static readonly TimeSpan ErrorBackoff = TimeSpan.FromSeconds(5);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        var nextReconcile = clock.GetUtcNow();
        int? listed = null; // objects of a full listing whose series are not all published yet
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (clock.GetUtcNow() >= nextReconcile)
                {
                    await store.EnsureBucketAsync(settings.InputBucket, stoppingToken);
                    await store.EnsureBucketAsync(storage.Value.OutputBucket, stoppingToken);
                    listed = await processor.ReconcileAsync("", stoppingToken);
                    nextReconcile = clock.GetUtcNow() + settings.ReconcileInterval;
                    await processor.RepublishOverdueAsync(stoppingToken); // jobs a broker lost (a wiped queue)
                }

                // Events are taken a batch at a time so their header reads overlap; a batch ends at a manifest, which
                // completes its series at once: their jobs go out before the rest of a long inbox is read.
                var batch = new List<ObjectCreatedEvent>();
                while (inbox.Reader.TryRead(out var created))
                {
                    batch.Add(created);
                    var manifest = settings.IsMarker(created.Object);
                    if (!manifest && batch.Count < settings.HeaderReadConcurrency * 4) continue;
                    await processor.ObserveAllAsync(batch, stoppingToken);
                    batch = [];
                    if (manifest) await processor.PublishDueAsync(stoppingToken);
                }
                await processor.ObserveAllAsync(batch, stoppingToken);
                await processor.PublishDueAsync(stoppingToken);
                if (listed is { } objects)
                {
                    await processor.AnnouncePassAsync(objects, stoppingToken);
                    listed = null;
                }

                await WaitForWorkAsync(Earliest(nextReconcile, processor.NextDeadline), stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                LogLoopError(logger, e);
                await Task.Delay(ErrorBackoff, clock, stoppingToken);
            }
        }
    }

    private DateTimeOffset Earliest(DateTimeOffset a, DateTimeOffset? b) => b is { } v && v < a ? v : a;

    /// <summary>Sleeps until the deadline or until an event arrives, whichever is first.</summary>
    private async Task WaitForWorkAsync(DateTimeOffset until, CancellationToken ct)
    {
        var delay = until - clock.GetUtcNow();
        if (delay <= TimeSpan.Zero) return;
        using var timeout = new CancellationTokenSource(delay, clock);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, timeout.Token);
        try
        {
            await inbox.Reader.WaitToReadAsync(linked.Token);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            // deadline reached
        }
    }

    [LoggerMessage(1100, LogLevel.Error, "Ingest loop error; retrying")]
    private static partial void LogLoopError(ILogger logger, Exception exception);
}
