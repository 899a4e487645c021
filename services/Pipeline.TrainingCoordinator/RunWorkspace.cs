using System.Text.Json;
using Pipeline.Contracts;
using Pipeline.Denoising.Models;
using Pipeline.Hosting;
using Pipeline.Registry;
using Pipeline.Storage;

namespace Pipeline.TrainingCoordinator;

/// <summary>What a run trains and scores on and with which budget, fixed when it starts (a resumed run reads it back).</summary>
/// <param name="Baseline">The current version when the run started ("{name}/{version}"): fine-tuned from and compared with.</param>
internal sealed record RunPlan(string RunId, string Trigger, Guid? RequestId, DateTimeOffset StartedAt, int Steps, double Minutes,
    string? Baseline, IReadOnlyList<PlannedSeries> Training, IReadOnlyList<PlannedSeries> HeldOut);

/// <summary>
/// A run's objects in the models bucket under {name}/training/{run id}/: plan.json, the held-out set documents the
/// evaluation reads, and checkpoint/{step}/ (the trainer's files, state.json written last, so a checkpoint without it is
/// incomplete and ignored). Only the newest complete checkpoint is kept; checkpoints go when the run ends.
/// </summary>
internal sealed class RunWorkspace(IObjectStore store, ModelRegistry registry, string model, string runId)
{
    private const string StateFile = "state.json";
    private readonly string _prefix = ModelRegistryLayout.TrainingRunPrefix(model, runId);

    private string CheckpointPrefix => _prefix + "checkpoint/";

    public ObjectRef Object(string name) => new(registry.Bucket, _prefix + name);

    public async Task WriteAsync<T>(string name, T document, CancellationToken ct) =>
        await store.PutBytesAsync(registry.Bucket, _prefix + name, JsonSerializer.SerializeToUtf8Bytes(document, ContractJson.Options),
            new ObjectWriteOptions("application/json"), ct);

    public async Task<RunPlan?> ReadPlanAsync(CancellationToken ct)
    {
        try
        {
            return JsonSerializer.Deserialize<RunPlan>(await store.GetBytesAsync(registry.Bucket, _prefix + "plan.json", cancellationToken: ct), ContractJson.Options);
        }
        catch (Exception e) when (e is ObjectNotFoundException or BucketNotFoundException)
        {
            return null;
        }
    }

    public Task WritePlanAsync(RunPlan plan, CancellationToken ct) => WriteAsync("plan.json", plan, ct);

    /// <summary>Uploads the trainer's checkpoint folder as checkpoint/{step}/ (state last), then drops older ones.</summary>
    public async Task UploadCheckpointAsync(string folder, int step, CancellationToken ct)
    {
        var target = $"{CheckpointPrefix}{step:D9}/";
        foreach (var file in Directory.GetFiles(folder).OrderBy(f => Path.GetFileName(f) == StateFile))
            await store.PutBytesAsync(registry.Bucket, target + Path.GetFileName(file), await File.ReadAllBytesAsync(file, ct), cancellationToken: ct);
        foreach (var key in await KeysAsync(CheckpointPrefix, ct))
            if (!key.StartsWith(target, StringComparison.Ordinal)) await store.DeleteAsync(registry.Bucket, key, ct);
    }

    /// <summary>Downloads the newest complete checkpoint into <paramref name="folder"/>; its step, or 0 when there is none.</summary>
    public async Task<int> DownloadCheckpointAsync(string folder, CancellationToken ct)
    {
        var keys = await KeysAsync(CheckpointPrefix, ct);
        var newest = keys.Where(k => k.EndsWith("/" + StateFile, StringComparison.Ordinal)).Order(StringComparer.Ordinal).LastOrDefault();
        if (newest is null) return 0;
        var stepFolder = newest[..(newest.Length - StateFile.Length)];
        Directory.CreateDirectory(folder);
        foreach (var key in keys.Where(k => k.StartsWith(stepFolder, StringComparison.Ordinal)))
            await File.WriteAllBytesAsync(Path.Combine(folder, key[stepFolder.Length..]), await store.GetBytesAsync(registry.Bucket, key, cancellationToken: ct), ct);
        return int.Parse(stepFolder[CheckpointPrefix.Length..^1], System.Globalization.CultureInfo.InvariantCulture);
    }

    public async Task DeleteCheckpointsAsync(CancellationToken ct)
    {
        foreach (var key in await KeysAsync(CheckpointPrefix, ct)) await store.DeleteAsync(registry.Bucket, key, ct);
    }

    private async Task<List<string>> KeysAsync(string prefix, CancellationToken ct)
    {
        var keys = new List<string>();
        await foreach (var listed in store.ListAsync(registry.Bucket, prefix, ct)) keys.Add(listed.Key);
        return keys;
    }
}
