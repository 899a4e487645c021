using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Logging;
using Pipeline.Denoising.Models;
using Pipeline.Storage;

namespace Pipeline.Registry;

/// <summary>
/// A version's life after publishing: promotion (verified in the store before the pointer moves), rollback to the pointer
/// the current one replaced, rejection marks, listing, and the training runs' decision records. The pointer and its
/// history are one object, so every move is one atomic write. Moves are not serialised across writers: the training
/// coordinator's single active run and an operator's occasional command do not race in practice.
/// </summary>
public sealed partial class ModelRegistry
{
    /// <summary>How many replaced pointers the current one keeps: the depth of successive rollbacks.</summary>
    public const int PointerHistoryLength = 50;

    /// <summary>The registry's documents (pointer, rejection marks, decision records): camelCase, enums by name, NaN where a gate had no figure.</summary>
    public static readonly JsonSerializerOptions Json = new(ModelManifest.Json)
    {
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    /// <summary>Every complete version of <paramref name="name"/> (manifest written), oldest first, with its state.</summary>
    public async Task<IReadOnlyList<ModelVersionEntry>> ListVersionsAsync(string name, CancellationToken ct = default)
    {
        var pointer = await TryReadPointerAsync(name, ct);
        var rejected = (await ListOrEmptyAsync(ModelRegistryLayout.RejectionsPrefix(name), ct)).Select(o => o.Key).ToHashSet();
        var prefix = ModelRegistryLayout.VersionsPrefix(name);
        var manifestSuffix = "/" + ModelFolder.ManifestFile;
        return [.. (await ListOrEmptyAsync(prefix, ct))
            .Where(o => o.Key.EndsWith(manifestSuffix, StringComparison.Ordinal) && o.Key.IndexOf('/', prefix.Length) == o.Key.Length - manifestSuffix.Length)
            .Select(o => (Id: new ModelVersionId(name, o.Key[prefix.Length..^manifestSuffix.Length]), o.LastModified))
            .Select(v => new ModelVersionEntry(v.Id, StateOf(v.Id, pointer, rejected.Contains(ModelRegistryLayout.RejectionKey(name, v.Id.Version))), v.LastModified))
            .OrderBy(e => e.PublishedAt).ThenBy(e => e.Id.Version, StringComparer.Ordinal)];
    }

    /// <summary>One version: its manifest (with the training lineage), state, rejection mark and the runs that decided on it.</summary>
    /// <exception cref="ModelIntegrityException">The version is not in the registry or its manifest is unreadable.</exception>
    public async Task<ModelVersionDetails> ShowAsync(ModelVersionId version, CancellationToken ct = default)
    {
        var manifest = await ReadAsync<ModelManifest>(Key(version, ModelFolder.ManifestFile), ct)
            ?? throw NotInRegistry(version);
        var rejection = await ReadAsync<Rejection>(ModelRegistryLayout.RejectionKey(version.Name, version.Version), ct);
        var decisions = (await ListDecisionsAsync(version.Name, ct)).Where(d => d.Candidate == version.ToString()).ToList();
        return new ModelVersionDetails(version, StateOf(version, await TryReadPointerAsync(version.Name, ct), rejection is not null), manifest, rejection, decisions);
    }

    /// <summary>
    /// Makes <paramref name="version"/> current: its files are fetched from the store and verified first (an unknown or
    /// tampered version changes nothing), then the pointer moves in one write, keeping the one it replaces for rollback.
    /// A rejection mark of the version is removed after the move. Promoting the current version changes nothing.
    /// </summary>
    /// <returns>Whether the pointer moved.</returns>
    /// <exception cref="ModelIntegrityException">The version is missing, incomplete or does not verify.</exception>
    public async Task<bool> PromoteAsync(ModelVersionId version, string reason, CancellationToken ct = default)
    {
        var manifestSha256 = await VerifyStoredAsync(version, ct);
        var moved = await MovePointerAsync(version, manifestSha256, reason, ct);
        var rejection = ModelRegistryLayout.RejectionKey(version.Name, version.Version);
        if (await TryStatAsync(rejection, ct) is not null) await store.DeleteAsync(options.Bucket, rejection, ct);
        return moved;
    }

    /// <summary>
    /// Moves the pointer back to the version the current one replaced (verified, and its manifest still the one pinned
    /// then), and marks the version rolled back from as rejected with <paramref name="reason"/>.
    /// </summary>
    /// <returns>The version now current.</returns>
    /// <exception cref="ModelRegistryException">No current version, or nothing before it.</exception>
    /// <exception cref="ModelIntegrityException">The earlier version is gone or no longer verifies.</exception>
    public async Task<ModelVersionId> RollbackAsync(string name, string reason, CancellationToken ct = default)
    {
        var pointer = await TryReadPointerAsync(name, ct) ?? throw new ModelRegistryException($"model {name} has no current version: nothing to roll back");
        if (pointer.Previous is not [var target, ..])
            throw new ModelRegistryException($"{name}/{pointer.Version} is the first version made current: nothing to roll back to");
        var version = new ModelVersionId(name, target.Version);
        var manifestSha256 = await VerifyStoredAsync(version, ct);
        if (manifestSha256 != target.ManifestSha256)
            throw new ModelIntegrityException($"Model version {version} has another manifest than when it was current (SHA-256 {manifestSha256[..12]}, pinned {target.ManifestSha256[..12]}): not rolling back to it.");
        await WritePointerAsync(name, new CurrentModelPointer(target.Version, manifestSha256, DateTimeOffset.UtcNow)
        {
            Reason = $"rolled back from {pointer.Version}: {reason}",
            Previous = [.. pointer.Previous.Skip(1)],
        }, ct);
        await PutAsync(ModelRegistryLayout.RejectionKey(name, pointer.Version), new Rejection($"rolled back: {reason}", DateTimeOffset.UtcNow), ct);
        LogRolledBack(_logger, $"{name}/{pointer.Version}", version.ToString());
        return version;
    }

    /// <summary>Marks a version rejected (it stays in the registry, listed as such). The current version cannot be rejected: roll back first.</summary>
    /// <exception cref="ModelIntegrityException">The version is not in the registry.</exception>
    /// <exception cref="ModelRegistryException">The version is current.</exception>
    public async Task RejectAsync(ModelVersionId version, Rejection rejection, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(rejection);
        if (await TryStatAsync(Key(version, ModelFolder.ManifestFile), ct) is null) throw NotInRegistry(version);
        if ((await TryReadPointerAsync(version.Name, ct))?.Version == version.Version)
            throw new ModelRegistryException($"{version} is the current version: roll back or promote another version before rejecting it");
        await PutAsync(ModelRegistryLayout.RejectionKey(version.Name, version.Version), rejection, ct);
        LogRejected(_logger, version.ToString(), rejection.Reason);
    }

    /// <summary>Writes a training run's decision record (rewriting the same run's record is harmless).</summary>
    public Task WriteDecisionAsync(string name, DecisionRecord record, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(record);
        return PutAsync(ModelRegistryLayout.DecisionKey(name, record.RunId), record, ct);
    }

    /// <summary>Every decision record of <paramref name="name"/>, oldest run first.</summary>
    public async Task<IReadOnlyList<DecisionRecord>> ListDecisionsAsync(string name, CancellationToken ct = default)
    {
        var records = new List<DecisionRecord>();
        foreach (var listed in await ListOrEmptyAsync(ModelRegistryLayout.DecisionsPrefix(name), ct))
            if (await ReadAsync<DecisionRecord>(listed.Key, ct) is { } record) records.Add(record);
        return [.. records.OrderBy(r => r.StartedAt).ThenBy(r => r.RunId, StringComparer.Ordinal)];
    }

    private static VersionState StateOf(ModelVersionId version, CurrentModelPointer? pointer, bool rejected) =>
        pointer?.Version == version.Version ? VersionState.Current
        : rejected ? VersionState.Rejected
        : pointer?.Previous.Any(p => p.Version == version.Version) == true ? VersionState.Previous
        : VersionState.Candidate;

    /// <summary>Fetches the version's files from the store (not the cache) and verifies them; returns its manifest's SHA-256.</summary>
    private async Task<string> VerifyStoredAsync(ModelVersionId version, CancellationToken ct)
    {
        var folder = Path.Combine(Path.GetTempPath(), "pipeline-verify-" + Guid.NewGuid().ToString("N"));
        try
        {
            var model = await FetchAsync(version, folder, ct);
            return ModelFolder.Sha256(await File.ReadAllBytesAsync(Path.Combine(model.Path, ModelFolder.ManifestFile), ct));
        }
        finally
        {
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>Makes <paramref name="version"/> current unless it already is; the replaced pointer goes first in the history.</summary>
    private async Task<bool> MovePointerAsync(ModelVersionId version, string manifestSha256, string reason, CancellationToken ct)
    {
        var old = await TryReadPointerAsync(version.Name, ct);
        if (old is not null && old.Version == version.Version && old.ManifestSha256 == manifestSha256) return false;
        await WritePointerAsync(version.Name, new CurrentModelPointer(version.Version, manifestSha256, DateTimeOffset.UtcNow)
        {
            Reason = reason,
            Previous = old is null ? [] : [.. old.Previous.Prepend(old with { Previous = [] }).Take(PointerHistoryLength)],
        }, ct);
        LogPromoted(_logger, version.ToString());
        return true;
    }

    private async Task WritePointerAsync(string name, CurrentModelPointer pointer, CancellationToken ct)
    {
        await store.EnsureBucketAsync(options.Bucket, ct);
        await PutAsync(ModelRegistryLayout.CurrentKey(name), pointer, ct);
    }

    private Task PutAsync<T>(string key, T document, CancellationToken ct) =>
        store.PutBytesAsync(options.Bucket, key, JsonSerializer.SerializeToUtf8Bytes(document, Json), new ObjectWriteOptions("application/json"), ct);

    /// <summary>A registry document, or null when it does not exist.</summary>
    /// <exception cref="ModelIntegrityException">It exists but is not valid JSON of its kind.</exception>
    private async Task<T?> ReadAsync<T>(string key, CancellationToken ct) where T : class
    {
        try
        {
            return JsonSerializer.Deserialize<T>(await store.GetBytesAsync(options.Bucket, key, cancellationToken: ct), Json)
                ?? throw new ModelIntegrityException($"{options.Bucket}/{key} is empty.");
        }
        catch (Exception e) when (e is ObjectNotFoundException or BucketNotFoundException)
        {
            return null;
        }
        catch (JsonException e)
        {
            throw new ModelIntegrityException($"{options.Bucket}/{key} is not a valid {typeof(T).Name}: {e.Message}");
        }
    }

    private async Task<ObjectInfo?> TryStatAsync(string key, CancellationToken ct)
    {
        try
        {
            return await store.TryStatAsync(options.Bucket, key, ct);
        }
        catch (BucketNotFoundException)
        {
            return null;
        }
    }

    private async Task<List<ListedObject>> ListOrEmptyAsync(string prefix, CancellationToken ct)
    {
        try
        {
            return await store.ListAsync(options.Bucket, prefix, ct).ToListAsync(ct);
        }
        catch (BucketNotFoundException)
        {
            return [];
        }
    }

    private ModelIntegrityException NotInRegistry(ModelVersionId version) =>
        new($"Model version {version} is not in the registry (no {options.Bucket}/{Key(version, ModelFolder.ManifestFile)}).");

    [LoggerMessage(305, LogLevel.Warning, "Model version {From} rolled back to {To}")]
    private static partial void LogRolledBack(ILogger logger, string from, string to);

    [LoggerMessage(306, LogLevel.Information, "Model version {Version} marked rejected: {Reason}")]
    private static partial void LogRejected(ILogger logger, string version, string reason);
}
