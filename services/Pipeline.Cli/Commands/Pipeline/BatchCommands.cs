using System.ComponentModel;
using System.Globalization;
using MassTransit;
using Pipeline.Cli.Commands.Jobs;
using Pipeline.Contracts;
using Spectre.Console;
using Spectre.Console.Cli;
using ValidationResult = Spectre.Console.ValidationResult;

namespace Pipeline.Cli.Commands.Pipeline;

/// <summary>
/// `pipeline submit BUCKET/PREFIX [--batch NAME] [--priority bulk|normal|urgent]`: asks ingest (a message on the broker
/// configured like the services, Bus__RabbitMq__...) to turn every study under the prefix into jobs of one batch.
/// </summary>
internal sealed class SubmitCommand : AsyncCommand<SubmitCommand.Settings>
{
    internal sealed class Settings : CommandSettings
    {
        [CommandArgument(0, "<BUCKET/PREFIX>"), Description("Bucket and key prefix of the studies, e.g. archive/2026-12-03/ (never modified)")]
        public string Prefix { get; init; } = "";

        [CommandOption("--batch <NAME>"), Description("Batch name: letters, digits, '.', '_', '-' (default batch-YYYYMMDD-HHMMSS)")]
        public string? Name { get; init; }

        [CommandOption("--priority <PRIORITY>"), Description("bulk (default), normal or urgent")]
        public string Priority { get; init; } = "bulk";

        public ObjectRef PrefixRef => Prefix.IndexOf('/') is var slash and > 0 ? new(Prefix[..slash], Prefix[(slash + 1)..]) : new(Prefix, "");

        public JobPriority? JobPriority => Enum.TryParse<JobPriority>(Priority, ignoreCase: true, out var p) && Enum.IsDefined(p) && !char.IsAsciiDigit(Priority[0]) ? p : null;

        public override ValidationResult Validate() =>
            Prefix.Length == 0 || Prefix.StartsWith('/') ? ValidationResult.Error("give the studies as BUCKET/PREFIX, e.g. archive/2026-12-03/")
            : Name is not null && !BatchNames.IsValid(Name) ? ValidationResult.Error("a batch name has 1 to 64 letters, digits, '.', '_' or '-'")
            : JobPriority is null ? ValidationResult.Error("--priority is bulk, normal or urgent")
            : ValidationResult.Success();
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        if (JobsSettings.Broker(Buckets.Environment(), out var error) is not { } broker)
            return JobsSettings.Fail($"pipeline submit needs the broker: {error}");
        var name = settings.Name ?? $"batch-{DateTime.UtcNow:yyyyMMdd-HHmmss}";
        var bus = Bus.Factory.CreateUsingRabbitMq(cfg => cfg.Host(broker.Host, (ushort)broker.Port, broker.VirtualHost, h =>
        {
            h.Username(broker.Username);
            h.Password(broker.Password);
        }));
        await bus.StartAsync(cancellationToken);
        try
        {
            await bus.Publish(new SubmitBatch(name, settings.PrefixRef, settings.JobPriority!.Value), cancellationToken);
        }
        finally
        {
            await bus.StopAsync(CancellationToken.None);
        }
        Console.WriteLine($"batch {name} submitted: studies under {settings.PrefixRef} at {settings.JobPriority} priority; follow it with `pipeline status --batch {name}`");
        return 0;
    }
}

/// <summary>`pipeline batches [OUT_DIR]`: every batch of the output bucket with its progress.</summary>
internal sealed class BatchesCommand : AsyncCommand<BatchesCommand.Settings>
{
    internal sealed class Settings : CommandSettings
    {
        [CommandArgument(0, "[OUT_DIR]"), Description("Output folder (default: the configured S3 store)")]
        public string? Output { get; init; }
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        if (Buckets.Open(settings.Output, null, out var error) is not { } buckets)
            return JobsSettings.Fail(error);
        var table = new Table().AddColumns("batch", "studies under", "priority", "progress", "series", "failed", "started", "ETA / finished");
        var count = 0;
        await foreach (var b in buckets.Store.ListBatchesAsync(buckets.Output, cancellationToken))
        {
            count++;
            table.AddRow(Markup.Escape(b.Name), Markup.Escape(b.Prefix.ToString()), b.Priority.ToString(), Markup.Escape(BatchView.Bar(b, 20)),
                $"{b.SeriesDone}/{b.Series}", (b.SeriesFailed + b.ObjectsFailed).ToString(CultureInfo.InvariantCulture), BatchView.Time(b.Started),
                b.Finished is { } f ? $"finished {BatchView.Time(f)}" : b.Eta is { } eta ? $"ETA {BatchView.Time(eta)}" : "-");
        }
        if (count == 0)
        {
            Console.WriteLine("no batches");
            return 0;
        }
        AnsiConsole.Write(table);
        return 0;
    }
}

/// <summary>How a batch record reads on a terminal.</summary>
internal static class BatchView
{
    /// <summary>`pipeline status --batch NAME`: the record with a progress bar, failures with their reasons, the report.</summary>
    public static int Write(BatchRecord? batch, string name)
    {
        if (batch is null)
            return JobsSettings.Fail($"no batch named '{name}' (see `pipeline batches`)");
        Console.WriteLine($"batch {batch.Name}: studies under {batch.Prefix}, {batch.Priority} priority, started {Time(batch.Started)}");
        Console.WriteLine(Bar(batch, 40) + $"  {batch.SlicesDone}/{batch.SlicesExpected} slices{(batch.Listed ? "" : " (still listing)")}");
        Console.WriteLine($"{batch.Studies} studies, {batch.Series} series: {batch.SeriesDone} done, {batch.Outstanding} in progress, "
            + $"{batch.SeriesFailed} failed; {batch.ObjectsFailed} objects failed alone");
        Console.WriteLine(batch.Finished is { } finished ? $"finished {Time(finished)}; report {batch.Report}"
            : batch.Eta is { } eta ? $"ETA {Time(eta)} (at the rate measured since the start)" : "ETA: no slice done yet");
        foreach (var failure in batch.Failures)
            Console.WriteLine($"failed: {failure.Object}: {failure.Reason}");
        return 0;
    }

    /// <summary>A text progress bar of slices done over slices expected, e.g. "[########------------]  40%".</summary>
    public static string Bar(BatchRecord batch, int width)
    {
        var fraction = batch.SlicesExpected == 0 ? (batch.Finished is null ? 0 : 1) : Math.Clamp(batch.SlicesDone / (double)batch.SlicesExpected, 0, 1);
        var filled = (int)Math.Round(fraction * width);
        return $"[{new string('#', filled)}{new string('-', width - filled)}] {fraction * 100,3:0}%";
    }

    public static string Time(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture);
}
