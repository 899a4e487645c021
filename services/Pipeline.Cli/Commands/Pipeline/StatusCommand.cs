using System.ComponentModel;
using Microsoft.Extensions.Configuration;
using Pipeline.Cli.Embedded;
using Pipeline.Storage;
using Pipeline.Storage.Local;
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
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        IObjectStore store;
        string inputBucket = EmbeddedPipeline.InputBucket, outputBucket = EmbeddedPipeline.OutputBucket;
        if (settings.Output is { } output)
        {
            if (!Directory.Exists(output))
            {
                AnsiConsole.MarkupLineInterpolated($"[red]no such folder: {output}[/]");
                return 1;
            }
            var buckets = new Dictionary<string, string> { [outputBucket] = Path.GetFullPath(output) };
            if (settings.Input is { } input) buckets[inputBucket] = Path.GetFullPath(input);
            store = new LocalFolderObjectStore(new LocalFolderStorageOptions
            {
                Root = Path.Combine(Path.GetFullPath(output), EmbeddedPipeline.StateFolder),
                BucketFolders = buckets,
            });
        }
        else
        {
            var configuration = new ConfigurationBuilder().AddEnvironmentVariables().Build();
            var storage = configuration.GetSection("Storage").Get<StorageOptions>();
            if (storage is null)
            {
                AnsiConsole.MarkupLine("[red]give an embedded run's OUT_DIR, or configure the object store (Storage__Kind, Storage__S3__...)[/]");
                return 1;
            }
            store = storage.CreateStore();
            inputBucket = configuration["Ingest:InputBucket"] ?? inputBucket;
            outputBucket = storage.OutputBucket;
        }
        var status = await PipelineStatus.ReadAsync(store, inputBucket, outputBucket, cancellationToken);
        StatusView.Write(status, settings.Output);
        return 0;
    }
}
