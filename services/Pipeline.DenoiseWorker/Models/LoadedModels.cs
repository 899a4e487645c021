using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Pipeline.Contracts;
using Pipeline.Denoising.Inference;
using Pipeline.Denoising.Models;
using Pipeline.Registry;

namespace Pipeline.DenoiseWorker.Models;

/// <summary>
/// The model versions this worker has open. A job leases the version it names; a newly published
/// version is opened (fetched and SHA-256-verified) beside the old one, and the old one is released
/// when no job holds it any more: a switch happens between jobs, never inside one, without a restart. Gauge
/// pipeline.denoise.model_loaded shows the open versions (1 per version and device): what this worker runs.
/// </summary>
internal sealed partial class LoadedModels : IDisposable
{
    private readonly Lock _lock = new();
    private readonly List<LoadedModel> _loaded = []; // newest last
    private readonly SemaphoreSlim _opening = new(1, 1);
    private readonly ModelRegistry _registry;
    private readonly IOptions<DenoiseWorkerOptions> _options;
    private readonly ILogger _logger;

    public LoadedModels(ModelRegistry registry, IOptions<DenoiseWorkerOptions> options, ILoggerFactory loggers, IMeterFactory meters)
    {
        _registry = registry;
        _options = options;
        _logger = loggers.CreateLogger<LoadedModels>();
        meters.Create(PipelineMetrics.DenoiseWorkerMeter).CreateObservableGauge("pipeline.denoise.model_loaded", Loaded, "{model}",
            "1 for each model version this worker has open (labels model_version, device)");
    }

    private List<Measurement<int>> Loaded()
    {
        lock (_lock)
            return _loaded.Select(m => new Measurement<int>(1, new KeyValuePair<string, object?>("model_version", m.Id.ToString()),
                new KeyValuePair<string, object?>("device", m.Denoiser.Engine.Device))).ToList();
    }

    /// <summary>
    /// Opens (once) and leases <paramref name="modelVersion"/>; dispose the lease when the job is done. With
    /// <paramref name="announced"/>, the version's files must also have the SHA-256 values announced for it: a version
    /// whose manifest was changed to match changed files verifies on its own, and must not be opened.
    /// </summary>
    /// <exception cref="ModelIntegrityException">The version is missing or does not verify.</exception>
    public async Task<ModelLease> AcquireAsync(string modelVersion, CancellationToken ct, ModelVersionPublished? announced = null)
    {
        var id = ModelVersionId.Parse(modelVersion);
        if (TryLease(id) is { } lease) return RequireAnnounced(lease, announced);
        await _opening.WaitAsync(ct);
        try
        {
            if (TryLease(id) is { } raced) return RequireAnnounced(raced, announced);
            var folder = await _registry.OpenAsync(id, ct);
            Verify(folder.Manifest, announced);
            var settings = _options.Value;
            var denoiser = DenoisingModel.OpenOnnx(folder, settings.Engine.ToEngineOptions(),
                new TilingOptions { BatchSize = settings.BatchSize, TileSize = settings.TileSize }, _logger);
            var model = new LoadedModel(id, folder, denoiser);
            lock (_lock)
            {
                _loaded.Add(model);
                model.Leases++;
                ReleaseUnused(settings.LoadedModels);
            }
            LogLoaded(_logger, id.ToString(), folder.Manifest.Architecture.Name, denoiser.Engine.Device);
            return new ModelLease(this, model);
        }
        finally
        {
            _opening.Release();
        }
    }

    private static ModelLease RequireAnnounced(ModelLease lease, ModelVersionPublished? announced)
    {
        try
        {
            Verify(lease.Manifest, announced);
            return lease;
        }
        catch
        {
            lease.Dispose();
            throw;
        }
    }

    private static void Verify(ModelManifest manifest, ModelVersionPublished? announced)
    {
        if (announced is null) return;
        if (!string.Equals(manifest.Files.Onnx.Sha256, announced.OnnxSha256, StringComparison.OrdinalIgnoreCase)
            || !string.Equals(manifest.Files.Weights.Sha256, announced.WeightsSha256, StringComparison.OrdinalIgnoreCase))
            throw new ModelIntegrityException($"Model version {announced.ModelVersion} in the registry does not match the published SHA-256 values; not used.");
    }

    private ModelLease? TryLease(ModelVersionId id)
    {
        lock (_lock)
        {
            var model = _loaded.FirstOrDefault(m => m.Id == id);
            if (model is null) return null;
            model.Leases++;
            return new ModelLease(this, model);
        }
    }

    internal void Return(LoadedModel model)
    {
        lock (_lock)
        {
            model.Leases--;
            ReleaseUnused(_options.Value.LoadedModels);
        }
    }

    /// <summary>Disposes the oldest versions beyond <paramref name="keep"/> that no job holds.</summary>
    private void ReleaseUnused(int keep)
    {
        for (var i = 0; _loaded.Count > keep && i < _loaded.Count;)
        {
            var model = _loaded[i];
            if (model.Leases > 0) { i++; continue; }
            _loaded.RemoveAt(i);
            model.Denoiser.Engine.Dispose();
            LogReleased(_logger, model.Id.ToString());
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            foreach (var model in _loaded) model.Denoiser.Engine.Dispose();
            _loaded.Clear();
        }
        _opening.Dispose();
    }

    [LoggerMessage(2101, LogLevel.Information, "Model version {Version} loaded ({Architecture} on {Device})")]
    private static partial void LogLoaded(ILogger logger, string version, string architecture, string device);

    [LoggerMessage(2102, LogLevel.Information, "Model version {Version} released")]
    private static partial void LogReleased(ILogger logger, string version);
}

/// <summary>One open model version: its verified files and its denoiser (one engine, used by one job at a time).</summary>
internal sealed class LoadedModel(ModelVersionId id, ModelFolder folder, SeriesDenoiser denoiser)
{
    public ModelVersionId Id { get; } = id;
    public ModelFolder Folder { get; } = folder;
    public SeriesDenoiser Denoiser { get; } = denoiser;
    public Lock Inference { get; } = new();
    public int Leases { get; set; }
}

/// <summary>A job's hold on a model version; the engine is not thread-safe, so inference runs one job at a time.</summary>
internal sealed class ModelLease : IDisposable
{
    private readonly LoadedModels _owner;
    private readonly LoadedModel _model;
    private int _disposed;

    internal ModelLease(LoadedModels owner, LoadedModel model) => (_owner, _model) = (owner, model);

    public ModelVersionId Version => _model.Id;

    public ModelManifest Manifest => _model.Folder.Manifest;

    public string Device => _model.Denoiser.Engine.Device;

    /// <summary>Runs <paramref name="work"/> with exclusive use of the engine (the other steps of other jobs go on meanwhile).</summary>
    public void Run(Action<SeriesDenoiser> work)
    {
        lock (_model.Inference)
            work(_model.Denoiser);
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
            _owner.Return(_model);
    }
}
