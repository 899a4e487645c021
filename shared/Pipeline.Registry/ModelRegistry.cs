using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Pipeline.Denoising.Models;
using Pipeline.Storage;

namespace Pipeline.Registry;

/// <summary>Where the registry lives and where verified copies are cached.</summary>
public sealed record ModelRegistryOptions
{
    /// <summary>Bucket holding {name}/versions/{version}/... and {name}/current.json (see <see cref="ModelRegistryLayout"/>).</summary>
    public string Bucket { get; init; } = "models";

    /// <summary>Local folder where fetched versions are kept; each load re-verifies the SHA-256 values.</summary>
    public string CacheFolder { get; init; } = Path.Combine(Path.GetTempPath(), "pipeline-models");
}

/// <summary>
/// The model registry in the object store. A version is immutable once its manifest is written (manifest
/// last: a version with a manifest is complete); promoting a version rewrites {name}/current.json, which
/// names it and pins its manifest's SHA-256. Every open verifies the files against the manifest.
/// </summary>
/// <remarks>Registry operations (promote, roll back, reject, list, decision records): ModelRegistry.Lifecycle.cs.</remarks>
public sealed partial class ModelRegistry(IObjectStore store, ModelRegistryOptions options, ILogger<ModelRegistry>? logger = null)
{
    private static readonly string[] Files = [ModelFolder.WeightsFile, ModelFolder.OnnxFile, ModelFolder.ManifestFile];
    private readonly ILogger _logger = logger ?? NullLogger<ModelRegistry>.Instance;
    private readonly SemaphoreSlim _fetching = new(1, 1);

    public string Bucket => options.Bucket;

    /// <summary>The local cache of verified versions.</summary>
    public string CacheFolder => options.CacheFolder;

    /// <summary>The promoted version of <paramref name="name"/>, or null when none was promoted yet.</summary>
    public async Task<ModelVersionId?> TryGetCurrentAsync(string name, CancellationToken ct = default)
    {
        var pointer = await TryReadPointerAsync(name, ct);
        return pointer is null ? null : new ModelVersionId(name, pointer.Version);
    }

    /// <summary>
    /// Uploads a local model folder as an immutable version (verified first; the manifest last) and,
    /// when <paramref name="promote"/>, makes it current. Publishing the same files again is harmless.
    /// </summary>
    public async Task<ModelVersionId> PublishAsync(string folder, ModelVersionId version, bool promote, CancellationToken ct = default)
    {
        var model = ModelFolder.Load(folder);
        await store.EnsureBucketAsync(options.Bucket, ct);
        var existing = await store.TryStatAsync(options.Bucket, Key(version, ModelFolder.ManifestFile), ct);
        var manifestBytes = await File.ReadAllBytesAsync(Path.Combine(model.Path, ModelFolder.ManifestFile), ct);
        if (existing is null)
        {
            foreach (var file in Files)
                await store.PutBytesAsync(options.Bucket, Key(version, file), await File.ReadAllBytesAsync(Path.Combine(model.Path, file), ct),
                    new ObjectWriteOptions(file.EndsWith(".json", StringComparison.Ordinal) ? "application/json" : "application/octet-stream"), ct);
        }
        else if (ModelFolder.Sha256(await store.GetBytesAsync(options.Bucket, existing.Key, cancellationToken: ct)) != ModelFolder.Sha256(manifestBytes))
        {
            throw new ModelIntegrityException($"Model version {version} already exists in the registry with other files; versions are immutable.");
        }
        if (promote)
            await MovePointerAsync(version, ModelFolder.Sha256(manifestBytes), "published and promoted", ct);
        return version;
    }

    /// <summary>
    /// The current version of <paramref name="name"/>; when the registry has none yet, publishes the model
    /// bundled with the application as version "1" and promotes it (first start of a new installation).
    /// </summary>
    public async Task<ModelVersionId> EnsureCurrentAsync(string name, string bundledFolder, CancellationToken ct = default)
    {
        if (await TryGetCurrentAsync(name, ct) is { } current)
            return current;
        LogBootstrap(_logger, name);
        return await PublishAsync(bundledFolder, new ModelVersionId(name, "1"), promote: true, ct);
    }

    /// <summary>
    /// Fetches a version into the local cache (unless already there) and loads it, verifying every file's
    /// SHA-256 against the manifest. A cached copy that fails verification is fetched again once.
    /// </summary>
    /// <exception cref="ModelIntegrityException">The version is missing, incomplete or does not verify.</exception>
    public async Task<ModelFolder> OpenAsync(ModelVersionId version, CancellationToken ct = default)
    {
        var folder = Path.Combine(options.CacheFolder, version.Name, version.Version);
        await _fetching.WaitAsync(ct);
        try
        {
            if (Directory.Exists(folder))
            {
                try
                {
                    var cached = ModelFolder.Load(folder);
                    Directory.SetLastWriteTimeUtc(folder, DateTime.UtcNow); // in use: see DeleteUnusedCachedVersionsAsync
                    return cached;
                }
                catch (ModelIntegrityException e)
                {
                    LogCacheRejected(_logger, version.ToString(), e.Message);
                    Directory.Delete(folder, recursive: true);
                }
            }
            var partial = folder + ".partial-" + Guid.NewGuid().ToString("N");
            try
            {
                var model = await FetchAsync(version, partial, ct); // verified before it becomes visible
                try
                {
                    Directory.Move(partial, folder);
                }
                catch (IOException) when (Directory.Exists(folder))
                {
                    // another process sharing the cache fetched it first: its copy is verified below
                }
                LogFetched(_logger, version.ToString(), model.Manifest.Architecture.Name);
                return ModelFolder.Load(folder);
            }
            finally
            {
                if (Directory.Exists(partial))
                    Directory.Delete(partial, recursive: true);
            }
        }
        finally
        {
            _fetching.Release();
        }
    }

    /// <summary>
    /// Deletes the cached versions no open used for <paramref name="unusedFor"/> (and fetches abandoned that long ago); returns
    /// how many. A loaded model keeps running from memory; a later open fetches and verifies the version again.
    /// </summary>
    public async Task<int> DeleteUnusedCachedVersionsAsync(TimeSpan unusedFor, DateTimeOffset now, CancellationToken ct = default)
    {
        if (!Directory.Exists(options.CacheFolder)) return 0;
        var deleted = 0;
        await _fetching.WaitAsync(ct); // not while a version is fetched or opened
        try
        {
            foreach (var version in Directory.EnumerateDirectories(options.CacheFolder).SelectMany(Directory.EnumerateDirectories))
            {
                if (now - Directory.GetLastWriteTimeUtc(version) < unusedFor) continue;
                Directory.Delete(version, recursive: true);
                deleted++;
            }
        }
        finally
        {
            _fetching.Release();
        }
        return deleted;
    }

    /// <summary>Downloads a version's files from the store into <paramref name="folder"/> and loads them, verifying every SHA-256.</summary>
    /// <exception cref="ModelIntegrityException">The version is missing, incomplete or does not verify.</exception>
    private async Task<ModelFolder> FetchAsync(ModelVersionId version, string folder, CancellationToken ct)
    {
        Directory.CreateDirectory(folder);
        foreach (var file in Files)
        {
            byte[] bytes;
            try
            {
                bytes = await store.GetBytesAsync(options.Bucket, Key(version, file), cancellationToken: ct);
            }
            catch (Exception e) when (e is ObjectNotFoundException or BucketNotFoundException)
            {
                throw new ModelIntegrityException($"Model version {version} is not in the registry (no {options.Bucket}/{Key(version, file)}).");
            }
            await File.WriteAllBytesAsync(Path.Combine(folder, file), bytes, ct);
        }
        return ModelFolder.Load(folder);
    }

    private async Task<CurrentModelPointer?> TryReadPointerAsync(string name, CancellationToken ct)
    {
        try
        {
            var bytes = await store.GetBytesAsync(options.Bucket, ModelRegistryLayout.CurrentKey(name), cancellationToken: ct);
            return JsonSerializer.Deserialize<CurrentModelPointer>(bytes, Json)
                ?? throw new ModelIntegrityException($"{options.Bucket}/{ModelRegistryLayout.CurrentKey(name)} is empty.");
        }
        catch (Exception e) when (e is ObjectNotFoundException or BucketNotFoundException)
        {
            return null;
        }
        catch (JsonException e)
        {
            throw new ModelIntegrityException($"{options.Bucket}/{ModelRegistryLayout.CurrentKey(name)} is not a valid pointer: {e.Message}");
        }
    }

    private static string Key(ModelVersionId version, string file) => ModelRegistryLayout.FileKey(version.Name, version.Version, file);

    [LoggerMessage(301, LogLevel.Information, "Model version {Version} promoted to current")]
    private static partial void LogPromoted(ILogger logger, string version);

    [LoggerMessage(302, LogLevel.Information, "Registry has no current version of model {Name}: publishing the bundled default as version 1")]
    private static partial void LogBootstrap(ILogger logger, string name);

    [LoggerMessage(303, LogLevel.Information, "Fetched and verified model version {Version} ({Architecture})")]
    private static partial void LogFetched(ILogger logger, string version, string architecture);

    [LoggerMessage(304, LogLevel.Warning, "Cached copy of model version {Version} failed verification and is fetched again: {Reason}")]
    private static partial void LogCacheRejected(ILogger logger, string version, string reason);
}
