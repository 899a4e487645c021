using Pipeline.Denoising.Models;

namespace Pipeline.Registry;

/// <summary>
/// The training lease at {name}/training/lease.json: which coordinator trains which run until when, and how far it is
/// (renewed while it trains; `pipeline model retrain --wait` shows the progress from it).
/// </summary>
/// <param name="Holder">The coordinator process holding it.</param>
/// <param name="RunId">The run it trains.</param>
/// <param name="ExpiresAt">Without renewal the lease is free after this: a killed coordinator's run is taken over then.</param>
/// <param name="Step">Training steps done.</param>
/// <param name="TotalSteps">The run's step budget.</param>
/// <param name="Stage">"planning", "training", "scoring" or "deciding".</param>
public sealed record TrainingLease(string Holder, string RunId, DateTimeOffset ExpiresAt, int Step = 0, int TotalSteps = 0, string Stage = "planning")
{
    public bool IsExpired(DateTimeOffset now) => now >= ExpiresAt;
}

public sealed partial class ModelRegistry
{
    /// <summary>The training lease of <paramref name="name"/>, or null when none is held.</summary>
    public Task<TrainingLease?> ReadTrainingLeaseAsync(string name, CancellationToken ct = default) =>
        ReadAsync<TrainingLease>(ModelRegistryLayout.TrainingLeaseKey(name), ct);

    /// <summary>Writes the lease (one object write: atomic, last writer wins; see the coordinator's README).</summary>
    public async Task WriteTrainingLeaseAsync(string name, TrainingLease lease, CancellationToken ct = default)
    {
        await store.EnsureBucketAsync(options.Bucket, ct);
        await PutAsync(ModelRegistryLayout.TrainingLeaseKey(name), lease, ct);
    }

    public Task DeleteTrainingLeaseAsync(string name, CancellationToken ct = default) =>
        store.DeleteAsync(options.Bucket, ModelRegistryLayout.TrainingLeaseKey(name), ct);
}
