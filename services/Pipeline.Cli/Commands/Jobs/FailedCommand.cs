using System.ComponentModel;
using System.Text.Json;
using Pipeline.Cli.Commands.Pipeline;
using Pipeline.Cli.Embedded;
using Pipeline.Hosting;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Pipeline.Cli.Commands.Jobs;

/// <summary>
/// `pipeline jobs failed [--out OUT_DIR] [--json]`: the open failures with their reasons, grouped by series, from the output
/// bucket's failure records; in the distributed setting also the message count of each service's error queue.
/// </summary>
internal sealed class FailedCommand : AsyncCommand<FailedCommand.Settings>
{
    internal sealed class Settings : JobsSettings
    {
        [CommandOption("--json"), Description("Print JSON instead of a table")]
        public bool Json { get; init; }
    }

    /// <summary>What --json prints.</summary>
    private sealed record Listing(IReadOnlyList<SeriesFailures> Series, int Resolved, IReadOnlyDictionary<string, uint>? ErrorQueues, string? ErrorQueuesUnread);

    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        if (Buckets.Open(settings.Output, null, out var error) is not { } buckets)
            return JobsSettings.Fail(error);
        var report = FailureReport.Of(await PipelineStatus.ReadAsync(buckets.Store, null, buckets.Output, cancellationToken));
        IReadOnlyDictionary<string, uint>? counts = null;
        string? unread = null;
        if (settings.Distributed)
        {
            if (JobsSettings.Broker(Buckets.Environment(), out var brokerError) is { } broker)
            {
                await using var queues = await ErrorQueues.ConnectAsync(broker, cancellationToken);
                counts = await queues.CountAsync(cancellationToken);
            }
            else unread = $"error queues not read: {brokerError}";
        }

        if (settings.Json)
        {
            Console.WriteLine(JsonSerializer.Serialize(new Listing(report.Series, report.Resolved.Count, counts, unread), ContractJson.Options));
            return 0;
        }
        foreach (var series in report.Series)
        {
            var table = new Table().AddColumns("stage", "object", "reason", "attempts", "retried at");
            foreach (var f in series.Failures)
                table.AddRow(Markup.Escape(f.Record.Stage.ToString()), Markup.Escape(f.Record.Source.Key), Markup.Escape(f.Record.Reason),
                    f.Record.Attempts.ToString(System.Globalization.CultureInfo.InvariantCulture), f.Record.RetriedAt?.ToString("u") ?? "");
            table.Title = new TableTitle(Markup.Escape(series.SeriesInstanceUid is { } uid
                ? $"series {uid} (study {series.StudyInstanceUid}){(series.Done ? ", done with these objects failed" : "")}"
                : "objects of no known series"));
            AnsiConsole.Write(table);
        }
        var known = report.Series.Where(s => s.SeriesInstanceUid is not null).ToList();
        var unknown = report.Series.Where(s => s.SeriesInstanceUid is null).Sum(s => s.Failures.Count);
        AnsiConsole.MarkupLineInterpolated(
            $"{known.Sum(s => s.Failures.Count)} failed objects in {known.Count} series, {unknown} of no known series; {report.Resolved.Count} resolved failure records kept as history");
        if (counts is not null)
            AnsiConsole.MarkupLineInterpolated($"error queues: {string.Join(", ", counts.Select(c => $"{c.Key} {c.Value}"))}");
        if (unread is not null)
            AnsiConsole.MarkupLineInterpolated($"[yellow]{unread}[/]");
        return 0;
    }
}
