using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Pipeline.DenoiseWorker;
using Pipeline.Denoising.Models;
using Pipeline.Evaluation;
using Pipeline.Hosting;
using Pipeline.Ingest;
using Pipeline.Registry;
using Pipeline.Storage;

namespace Pipeline.Cli.Embedded;

/// <summary>
/// Ingest, denoise worker and evaluation in one process: MassTransit's in-memory transport, a local
/// folder store whose "incoming" bucket is the input folder (read only) and whose "denoised" bucket is
/// the output folder; the store's own state and the model registry live in OUT/.pipeline. The services
/// are registered exactly as their own Program.cs files register them.
/// </summary>
internal sealed class EmbeddedPipeline : IAsyncDisposable
{
    public const string InputBucket = "incoming";
    public const string OutputBucket = "denoised";
    public const string StateFolder = ".pipeline";

    private readonly IHost _host;

    private EmbeddedPipeline(IHost host) => _host = host;

    public RunProgress Progress => _host.Services.GetRequiredService<RunProgress>();

    public IObjectStore Store => _host.Services.GetRequiredService<IObjectStore>();

    public static EmbeddedPipeline Create(string input, string output)
    {
        var state = Path.Combine(output, StateFolder);
        var builder = new HostApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddEnvironmentVariables(); // engine threads, device, batch size...
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Bus:Transport"] = "InMemory",
            ["Bus:RetryLimit"] = "1",
            ["Storage:Kind"] = "Local",
            ["Storage:Local:Root"] = state,
            [$"Storage:Local:BucketFolders:{InputBucket}"] = input,
            [$"Storage:Local:BucketFolders:{OutputBucket}"] = output,
            ["Storage:OutputBucket"] = OutputBucket,
            ["Ingest:InputBucket"] = InputBucket,
            ["Ingest:QuietPeriod"] = "00:00:00", // the whole input is there at start
            ["Ingest:ReconcileInterval"] = "1.00:00:00",
            ["ModelRegistry:CacheFolder"] = Path.Combine(state, "model-cache"),
            // Ctrl+C: a job in hand is cancelled after 1 s, before its marker (a rerun redoes that series).
            ["DenoiseWorker:ShutdownTimeout"] = "00:00:01",
        });
        builder.Logging.ClearProviders(); // the progress display and the summary speak to the user
        builder.AddServiceDefaults(bus =>
        {
            bus.AddIngestConsumers();
            bus.AddDenoiseWorkerConsumers();
            bus.AddEvaluationConsumers();
            bus.AddConsumer<RunTracker>();
        });
        builder.AddObjectStore();
        builder.AddIngest();
        builder.AddDenoiseWorker();
        builder.AddEvaluation();
        builder.Services.AddSingleton<RunProgress>();
        return new EmbeddedPipeline(builder.Build());
    }

    /// <summary>
    /// Publishes <paramref name="modelFolder"/> (verified) in the run's registry and makes it current, so
    /// the jobs of this run use it: the bundled model as "denoiser/1", another as its manifest's version.
    /// </summary>
    public async Task<ModelVersionId> UseModelAsync(string? modelFolder, CancellationToken ct)
    {
        var registry = _host.Services.GetRequiredService<ModelRegistry>();
        var folder = modelFolder ?? DenoisingModel.DefaultFolder;
        var manifest = ModelFolder.Load(folder).Manifest;
        var version = modelFolder is null ? "1" : manifest.VersionOrOnnxHash();
        var name = _host.Services.GetRequiredService<IOptions<ModelRegistrySettings>>().Value.Model; // the name ingest asks for
        return await registry.PublishAsync(folder, new ModelVersionId(name, version), promote: true, ct);
    }

    public Task StartAsync(CancellationToken ct) => _host.StartAsync(ct);

    /// <summary>Waits until ingest has published every series and every job has ended (read from the bus alone).</summary>
    public async Task WaitUntilDoneAsync(CancellationToken ct)
    {
        var progress = Progress;
        while (!progress.AllDone)
            await Task.Delay(100, ct);
    }

    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync();
        _host.Dispose();
    }
}
