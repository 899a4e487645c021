using System.ComponentModel;
using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Pipeline.Cli.Commands.Jobs;
using Pipeline.Cli.Commands.Pipeline;
using Pipeline.Cli.Embedded;
using Pipeline.Denoising.Models;
using Pipeline.Registry;
using Spectre.Console.Cli;

namespace Pipeline.Cli.Commands.Model;

/// <summary>
/// Where the registry verbs look: the registry of an embedded run under OUT_DIR/.pipeline (the folder `pipeline run` uses;
/// default ./pipeline-out), or, without --out when Storage__Kind is set, the deployment's object store configured like the
/// services (Storage__..., ModelRegistry__Bucket, ModelRegistry__Model).
/// </summary>
internal class RegistrySettings : CommandSettings
{
    [CommandOption("--out <OUT_DIR>"), Description("Output folder of an embedded run (default ./pipeline-out, or the configured S3 store when Storage__Kind is set)")]
    public string? Output { get; init; }

    [CommandOption("--json"), Description("Print JSON")]
    public bool Json { get; init; }
}

/// <summary>
/// A registry verb: opens the registry, runs, and turns every refusal (unknown or tampered version, nothing to roll back,
/// a missing folder) into one line on stderr and exit code 1. The registry changes nothing when it refuses.
/// </summary>
internal abstract class RegistryCommand<TSettings> : AsyncCommand<TSettings> where TSettings : RegistrySettings
{
    public sealed override async Task<int> ExecuteAsync(CommandContext context, TSettings settings, CancellationToken cancellationToken)
    {
        var environment = Buckets.Environment();
        var output = settings.Output ?? (environment["Storage:Kind"] is null ? "pipeline-out" : null);
        if (Buckets.Open(output, null, out var error) is not { } buckets)
            return JobsSettings.Fail(error);
        var registrySettings = environment.GetSection(ModelRegistrySettings.Section).Get<ModelRegistrySettings>() ?? new ModelRegistrySettings();
        var options = new ModelRegistryOptions { Bucket = registrySettings.Bucket };
        if (output is not null) // the cache `pipeline run` uses
            options = options with { CacheFolder = Path.Combine(Path.GetFullPath(output), EmbeddedPipeline.StateFolder, "model-cache") };
        try
        {
            return await RunAsync(new ModelRegistry(buckets.Store, options), registrySettings.Model, settings, cancellationToken);
        }
        catch (Exception e) when (e is ModelIntegrityException or ModelRegistryException or FormatException or ArgumentException)
        {
            return JobsSettings.Fail(e.Message);
        }
    }

    protected abstract Task<int> RunAsync(ModelRegistry registry, string model, TSettings settings, CancellationToken ct);

    /// <summary>A version as the user typed it: "denoiser/2", or "2" for the configured model.</summary>
    protected static ModelVersionId Version(string model, string value) =>
        value.Contains('/', StringComparison.Ordinal) ? ModelVersionId.Parse(value) : ModelVersionId.Parse($"{model}/{value}");

    protected static int PrintJson<T>(T value)
    {
        Console.WriteLine(JsonSerializer.Serialize(value, ModelRegistry.Json));
        return 0;
    }
}

/// <summary>Settings of the verbs that name one version.</summary>
internal class VersionSettings : RegistrySettings
{
    [CommandArgument(0, "<VERSION>"), Description("Model version: \"denoiser/2\", or \"2\" for the configured model (ModelRegistry__Model, default denoiser)")]
    public string Version { get; init; } = "";
}
