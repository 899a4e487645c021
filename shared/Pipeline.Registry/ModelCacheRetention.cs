using Pipeline.Hosting;

namespace Pipeline.Registry;

/// <summary>Retention of the local model cache (<see cref="RetentionOptions.ModelCache"/>); registered by the denoise worker.</summary>
public sealed class ModelCacheRetention(ModelRegistry registry) : IRetentionSweep
{
    public Task<int> SweepAsync(RetentionOptions options, DateTimeOffset now, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(options);
        return registry.DeleteUnusedCachedVersionsAsync(options.ModelCache, now, ct);
    }
}
