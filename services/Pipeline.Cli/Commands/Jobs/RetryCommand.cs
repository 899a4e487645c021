using System.ComponentModel;
using Pipeline.Cli.Commands.Pipeline;
using Pipeline.Cli.Embedded;
using Pipeline.Contracts;
using Pipeline.Hosting;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Pipeline.Cli.Commands.Jobs;

/// <summary>
/// `pipeline jobs retry [--all | SERIES_UID] [--out OUT_DIR --input INPUT_DIR]`: runs failed work again once its cause is
/// fixed, and marks the failure records retried (<see cref="FailureRecord.RetriedAt"/>).
/// Distributed: moves the messages from the error queues back to their work queues: the exact job that failed (same
/// revision, instances and fingerprint), so the rerun is idempotent and no service has to rebuild it.
/// Embedded: runs the pipeline over the input again, which re-reads every object that failed at ingest and re-publishes
/// every series without a completion marker (a failed job); what is done is skipped.
/// Objects that failed alone inside a finished series have no job to retry: ingest redoes their series when they are
/// uploaded again.
/// </summary>
internal sealed class RetryCommand : AsyncCommand<RetryCommand.Settings>
{
    internal sealed class Settings : JobsSettings
    {
        [CommandArgument(0, "[SERIES_UID]"), Description("Series Instance UID of the series to retry")]
        public string? Series { get; init; }

        [CommandOption("--all"), Description("Retry every failed series")]
        public bool All { get; init; }

        [CommandOption("--input <INPUT_DIR>"), Description("Input folder of the embedded run (required with --out)")]
        public string? Input { get; init; }

        public override ValidationResult Validate() =>
            (Series is null) == !All ? ValidationResult.Error("give a SERIES_UID or --all (one of them)")
            : Output is not null && Input is null ? ValidationResult.Error("--input INPUT_DIR is required with --out: the embedded run reads its input again")
            : Input is not null && !Directory.Exists(Input) ? ValidationResult.Error($"input folder '{Input}' does not exist")
            : ValidationResult.Success();

        public bool Selects(string? seriesUid) => All || seriesUid == Series;
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        if (Buckets.Open(settings.Output, null, out var error) is not { } buckets)
            return JobsSettings.Fail(error);
        var report = FailureReport.Of(await PipelineStatus.ReadAsync(buckets.Store, null, buckets.Output, cancellationToken));
        return settings.Distributed
            ? await RetryDistributedAsync(settings, buckets, report, cancellationToken)
            : await RetryEmbeddedAsync(settings, buckets, report, cancellationToken);
    }

    private static async Task<int> RetryEmbeddedAsync(Settings settings, Buckets buckets, FailureReport report, CancellationToken ct)
    {
        // Ingest reads every object again; a series without a marker is published again; a finished one is skipped.
        var retried = report.Series.Where(s => settings.Selects(s.SeriesInstanceUid))
            .SelectMany(s => s.Failures.Where(f => f.Record.Stage == PipelineStage.Ingest || !s.Done)).ToList();
        if (retried.Count == 0)
            return JobsSettings.Fail(NothingToRetry(settings, report));
        await MarkRetriedAsync(buckets, retried, ct);
        AnsiConsole.MarkupLineInterpolated($"retrying {retried.Count} failed objects: the pipeline runs over the input again");
        return await RunCommand.RunAsync(settings.Input!, settings.Output!, null, ct);
    }

    private static async Task<int> RetryDistributedAsync(Settings settings, Buckets buckets, FailureReport report, CancellationToken ct)
    {
        if (JobsSettings.Broker(Buckets.Environment(), out var brokerError) is not { } broker)
            return JobsSettings.Fail($"cannot reach the error queues: {brokerError}");
        await using var queues = await ErrorQueues.ConnectAsync(broker, ct);
        var moved = await queues.MoveBackAsync(settings.Selects, ct);
        if (moved.Count == 0)
            return JobsSettings.Fail(NothingToRetry(settings, report));
        var series = moved.Select(m => m.SeriesInstanceUid).ToHashSet();
        await MarkRetriedAsync(buckets, [.. report.Series.Where(s => series.Contains(s.SeriesInstanceUid)).SelectMany(s => s.Failures)], ct);
        foreach (var queue in moved.GroupBy(m => m.Queue))
            AnsiConsole.MarkupLineInterpolated($"{queue.Count()} messages moved back to {queue.Key}");
        return 0;
    }

    private static async Task MarkRetriedAsync(Buckets buckets, IReadOnlyList<FailureState> failures, CancellationToken ct)
    {
        var now = DateTimeOffset.UtcNow;
        foreach (var failure in failures)
            await buckets.Store.MarkRetriedAsync(buckets.Output, failure.Key, now, ct);
    }

    /// <summary>Why nothing was retried, in one line.</summary>
    private static string NothingToRetry(Settings settings, FailureReport report)
    {
        var where = settings.Distributed ? "the error queues hold no job" : "no failed job and no object that failed at ingest";
        if (settings.Series is not { } uid)
            return $"nothing to retry: {where}";
        if (!report.Names(uid))
            return $"unknown series {uid}: no failure record and no failed job names it";
        return report.Series.Any(s => s.SeriesInstanceUid == uid)
            ? $"series {uid} has nothing to retry: {where} of it; its objects failed alone in a finished series (upload them again to redo it)"
            : $"series {uid} has nothing to retry: its failures were resolved since";
    }

}
