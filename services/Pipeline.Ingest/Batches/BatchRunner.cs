using System.Collections.Concurrent;
using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Pipeline.Contracts;
using Pipeline.Ingest.Notifications;
using Pipeline.Reporting;
using Pipeline.Storage;

namespace Pipeline.Ingest.Batches;

/// <summary>
/// Runs submitted batches (<see cref="SubmitBatch"/>): lists the batch's prefix study folder by study folder (the listing
/// is streamed: one folder's headers are in memory at a time), publishes each folder's series as jobs of the batch's
/// priority through an ingest processor of its own (the same header reading, series rules, failure records and revisions
/// as drops), never more than <see cref="IngestOptions.MaxOutstandingJobsPerBatch"/> jobs without their completion
/// marker, keeps the <see cref="BatchRecord"/> in the output bucket current (progress, ETA from the measured rate) and,
/// when every job ended, writes the batch's morning report; <see cref="BatchGauges"/> export the same counts. Batches whose
/// record is unfinished are resumed at start (series done meanwhile are counted from their markers, not redone).
/// </summary>
internal sealed partial class BatchRunner(
    Func<IngestOptions, IngestProcessor> processors,
    IObjectStore store,
    IOptions<IngestOptions> options,
    IOptions<StorageOptions> storage,
    BatchGauges gauges,
    TimeProvider clock,
    ILogger<BatchRunner> logger) : BackgroundService
{
    /// <summary>Objects observed together, so their header reads overlap (as in a drop's listing).</summary>
    private const int ListingPage = 256;

    private static readonly TimeSpan ErrorBackoff = TimeSpan.FromSeconds(10);

    private readonly Channel<SubmitBatch> _submissions = Channel.CreateUnbounded<SubmitBatch>();
    private readonly ConcurrentDictionary<string, Task> _running = new(StringComparer.Ordinal);
    private readonly string _output = storage.Value.OutputBucket;

    /// <summary>Takes a submission (from the bus); it starts unless a batch of that name exists.</summary>
    public ValueTask SubmitAsync(SubmitBatch batch, CancellationToken ct) => _submissions.Writer.WriteAsync(batch, ct);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await store.EnsureBucketAsync(_output, stoppingToken);
            await foreach (var record in store.ListBatchesAsync(_output, stoppingToken))
                if (record.Finished is null)
                    Start(record, stoppingToken);
            await foreach (var batch in _submissions.Reader.ReadAllAsync(stoppingToken))
                await TakeAsync(batch, stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        await Task.WhenAll(_running.Values).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    private async Task TakeAsync(SubmitBatch batch, CancellationToken ct)
    {
        if (!BatchNames.IsValid(batch.Name))
        {
            LogRefused(logger, "(invalid name)", "a batch name has 1 to 64 letters, digits, '.', '_' or '-'");
            return;
        }
        if (_running.ContainsKey(batch.Name) || await store.ReadBatchAsync(_output, batch.Name, ct) is not null)
        {
            LogRefused(logger, batch.Name, "a batch of that name exists already");
            return;
        }
        var record = new BatchRecord(batch.Name, batch.Prefix, batch.Priority, clock.GetUtcNow()) { Updated = clock.GetUtcNow() };
        await WriteAsync(record, ct);
        LogSubmitted(logger, batch.Name, batch.Prefix.ToString(), batch.Priority);
        Start(record, ct);
    }

    private void Start(BatchRecord record, CancellationToken ct)
    {
        gauges.Update(record);
        _running[record.Name] = Task.Run(async () =>
        {
            while (!ct.IsCancellationRequested)
            {
                try
                {
                    await RunAsync(record, ct);
                    return;
                }
                catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
                {
                    LogRetrying(logger, e, record.Name);
                    await Task.Delay(ErrorBackoff, clock, ct);
                }
            }
        }, ct);
    }

    /// <summary>One pass over the batch from the start of its listing (series done already are only counted).</summary>
    private async Task RunAsync(BatchRecord started, CancellationToken ct)
    {
        var settings = options.Value;
        var processor = processors(ForBatch(settings, started));
        var progress = new Progress(started);
        processor.Jobs.Scheduled = (series, job) =>
        {
            progress.Studies.Add(series.Key.StudyInstanceUid);
            progress.Series++;
            progress.SlicesExpected += series.Instances.Count;
            if (job is not null) return;
            progress.SeriesDone++;
            progress.SlicesDone += series.Instances.Count;
        };

        async Task PublishFolderAsync(List<ObjectCreatedEvent> page)
        {
            await processor.ObserveAllAsync(page, ct);
            page.Clear();
            while (true)
            {
                var room = settings.MaxOutstandingJobsPerBatch - processor.Jobs.Outstanding;
                if (room <= 0)
                {
                    await Task.Delay(settings.BatchPollInterval, clock, ct);
                    await CollectAsync(processor, progress, ct);
                    continue;
                }
                if (await processor.PublishDueAsync(ct, room) < room) break; // nothing more due in this folder
            }
            processor.ForgetPublished();
            await WriteChangedAsync(progress, processor.Jobs.Outstanding, ct);
        }

        var prefix = started.Prefix;
        string? folder = null;
        var page = new List<ObjectCreatedEvent>();
        await foreach (var listed in store.ListAsync(prefix.Bucket, prefix.Key, ct))
        {
            var study = StudyFolder(prefix.Key, listed.Key);
            if (study != folder && page.Count > 0) await PublishFolderAsync(page);
            else if (page.Count >= ListingPage)
            {
                await processor.ObserveAllAsync(page, ct); // a big study folder: observed in pages, published when it ends
                page.Clear();
            }
            folder = study;
            page.Add(new ObjectCreatedEvent(new ObjectRef(prefix.Bucket, listed.Key), listed.Size, listed.ETag));
        }
        await PublishFolderAsync(page);
        progress.Listed = true;

        while (processor.Jobs.Outstanding > 0)
        {
            await Task.Delay(settings.BatchPollInterval, clock, ct);
            await CollectAsync(processor, progress, ct);
        }
        await FinishAsync(progress, ct);
    }

    /// <summary>Counts the outstanding jobs that ended, publishes again those a broker lost, writes the record.</summary>
    private async Task CollectAsync(IngestProcessor processor, Progress progress, CancellationToken ct)
    {
        foreach (var (_, marker, failure) in await processor.Jobs.CollectEndedAsync(ct))
        {
            if (marker is not null)
            {
                progress.SeriesDone++;
                progress.SlicesDone += marker.Instances.Count;
                progress.ObjectsFailed += marker.FailedInstances.Count;
            }
            else if (failure is not null)
            {
                progress.SeriesFailed++;
            }
        }
        await processor.RepublishOverdueAsync(ct);
        await WriteChangedAsync(progress, processor.Jobs.Outstanding, ct);
    }

    /// <summary>Every job ended: the failures under the prefix with their reasons, the morning report, the finished record.</summary>
    private async Task FinishAsync(Progress progress, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var record = progress.Record(0, now);
        var state = (await PipelineStatus.ReadAsync(store, null, _output, ct)).Within(record.Prefix);
        var report = await MorningReport.WriteAsync(store, _output, BucketLayout.BatchReport(record.Name),
            new ReportScope($"batch {record.Name}", record.Started, now), state, ct);
        await WriteAsync(record with
        {
            Finished = now,
            Eta = null,
            ObjectsFailed = state.Failures.Count,
            Failures = [.. state.Failures.Select(f => new ObjectProblem(f.Record.Source, f.Record.Reason))],
            Report = report,
        }, ct);
        LogFinished(logger, record.Name, record.SeriesDone, record.Series, state.Failures.Count, (now - record.Started).TotalSeconds);
    }

    /// <summary>The study folder of a key: its first folder below the prefix (the prefix itself for a key directly in it).</summary>
    private static string StudyFolder(string prefix, string key)
    {
        var slash = key.IndexOf('/', prefix.Length);
        return slash < 0 ? prefix : key[..(slash + 1)];
    }

    /// <summary>Ingest's settings for a batch's own processor: its bucket and priority, and no quiet period (its objects are in place).</summary>
    private static IngestOptions ForBatch(IngestOptions settings, BatchRecord batch) => new()
    {
        InputBucket = batch.Prefix.Bucket,
        ModelVersion = settings.ModelVersion,
        QuietPeriod = TimeSpan.Zero,
        JobDeadline = settings.JobDeadline,
        MarkerFileName = settings.MarkerFileName,
        DefaultPriority = batch.Priority,
        HeaderReadBytes = settings.HeaderReadBytes,
        HeaderReadConcurrency = settings.HeaderReadConcurrency,
    };

    private Task WriteAsync(BatchRecord record, CancellationToken ct)
    {
        gauges.Update(record);
        return store.WriteBatchAsync(_output, record, ct);
    }

    /// <summary>Writes the record when a count changed since it was last written (not at every poll: readers meet fewer rewrites).</summary>
    private async Task WriteChangedAsync(Progress progress, int outstanding, CancellationToken ct)
    {
        var record = progress.Record(outstanding, clock.GetUtcNow());
        gauges.Update(record); // the ETA moves at every poll, though the record is only rewritten when a count changed
        if (record with { Eta = null, Updated = default } == progress.Written) return;
        await WriteAsync(record, ct);
        progress.Written = record with { Eta = null, Updated = default };
    }

    /// <summary>A batch's counts as one pass finds them.</summary>
    private sealed class Progress(BatchRecord started)
    {
        public bool Listed { get; set; }
        /// <summary>Study UIDs (one string per study, not per series or instance: a study may span folders).</summary>
        public HashSet<string> Studies { get; } = new(StringComparer.Ordinal);
        public int Series { get; set; }
        public long SlicesExpected { get; set; }
        public int SeriesDone { get; set; }
        public long SlicesDone { get; set; }
        public int SeriesFailed { get; set; }
        public int ObjectsFailed { get; set; }

        /// <summary>The record last written, without its times.</summary>
        public BatchRecord? Written { get; set; }

        public BatchRecord Record(int outstanding, DateTimeOffset now)
        {
            var seconds = (now - started.Started).TotalSeconds;
            var remaining = SlicesExpected - SlicesDone;
            DateTimeOffset? eta = SlicesDone > 0 && seconds > 0 && remaining >= 0
                ? now + TimeSpan.FromSeconds(remaining / (SlicesDone / seconds))
                : null;
            return started with
            {
                Listed = Listed, Studies = Studies.Count, Series = Series, SlicesExpected = SlicesExpected, SeriesDone = SeriesDone,
                SlicesDone = SlicesDone, SeriesFailed = SeriesFailed, ObjectsFailed = ObjectsFailed, Outstanding = outstanding,
                Eta = eta, Updated = now,
            };
        }
    }

    [LoggerMessage(1200, LogLevel.Information, "Batch {Batch} submitted: studies under {Prefix}, priority {Priority}")]
    private static partial void LogSubmitted(ILogger logger, string batch, string prefix, JobPriority priority);

    [LoggerMessage(1201, LogLevel.Warning, "Batch submission {Batch} refused: {Reason}")]
    private static partial void LogRefused(ILogger logger, string batch, string reason);

    [LoggerMessage(1202, LogLevel.Information, "Batch {Batch} finished: {Done} of {Series} series done, {Failed} failed objects, {Seconds:F0} s")]
    private static partial void LogFinished(ILogger logger, string batch, int done, int series, int failed, double seconds);

    [LoggerMessage(1203, LogLevel.Error, "Batch {Batch} stopped by an error; resumed from the start of its listing shortly (done series are not redone)")]
    private static partial void LogRetrying(ILogger logger, Exception exception, string batch);
}
