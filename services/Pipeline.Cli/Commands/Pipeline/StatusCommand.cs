using System.ComponentModel;
using Pipeline.Cli.Embedded;
using Pipeline.Contracts;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Pipeline.Cli.Commands.Pipeline;

/// <summary>
/// `pipeline status [OUT_DIR] [--input DIR]`: series done, objects failed with their reason, input objects
/// pending, read from the buckets. With OUT_DIR: an embedded run's folders. Without: the object store of
/// the distributed deployment, configured like the services (Storage__Kind=S3, Storage__S3__..., Storage__OutputBucket, Ingest__InputBucket).
/// </summary>
internal sealed class StatusCommand : AsyncCommand<StatusCommand.Settings>
{
    internal sealed class Settings : CommandSettings
    {
        [CommandArgument(0, "[OUT_DIR]"), Description("Output folder of an embedded run")]
        public string? Output { get; init; }

        [CommandOption("--input <DIR>"), Description("Input folder of that run, to list pending objects")]
        public string? Input { get; init; }

        [CommandOption("--batch <NAME>"), Description("One batch's progress (`pipeline submit`), from its record in the output bucket")]
        public string? Batch { get; init; }
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        if (Buckets.Open(settings.Output, settings.Input, out var error) is not { } buckets)
        {
            AnsiConsole.MarkupLineInterpolated($"[red]{error}[/]");
            return 1;
        }
        if (settings.Batch is { } name)
            return BatchView.Write(BatchNames.IsValid(name) ? await buckets.Store.ReadBatchAsync(buckets.Output, name, cancellationToken) : null, name);
        var status = await PipelineStatus.ReadAsync(buckets.Store, buckets.Input, buckets.Output, cancellationToken);
        StatusView.Write(status, settings.Output);
        return 0;
    }
}
