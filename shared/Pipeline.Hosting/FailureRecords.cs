using System.Text.Json;
using Pipeline.Contracts;
using Pipeline.Storage;

namespace Pipeline.Hosting;

/// <summary>Writes failure records where operators look: one JSON document per failed object and stage.</summary>
public static class FailureRecords
{
    /// <summary>Writes <paramref name="record"/> at <see cref="BucketLayout.FailureRecord"/> in <paramref name="bucket"/> and returns where.</summary>
    public static async Task<ObjectRef> WriteAsync(this IObjectStore store, string bucket, FailureRecord record, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(record);
        var key = BucketLayout.FailureRecord(record.Stage, record.Source);
        await store.PutBytesAsync(bucket, key, JsonSerializer.SerializeToUtf8Bytes(record, ContractJson.Options), new ObjectWriteOptions("application/json"), ct);
        return new ObjectRef(bucket, key);
    }
}
