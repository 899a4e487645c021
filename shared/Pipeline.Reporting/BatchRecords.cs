using System.Runtime.CompilerServices;
using System.Text.Json;
using Pipeline.Contracts;
using Pipeline.Hosting;
using Pipeline.Storage;

namespace Pipeline.Reporting;

/// <summary>The one reader and writer of <see cref="BatchRecord"/>s at <see cref="BucketLayout.Batch"/>: ingest writes them, the tool reads them.</summary>
public static class BatchRecords
{
    /// <summary>The record of batch <paramref name="name"/>; null when there is none (or it is not a readable record).</summary>
    public static async Task<BatchRecord?> ReadBatchAsync(this IObjectStore store, string bucket, string name, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(store);
        try
        {
            return JsonSerializer.Deserialize<BatchRecord>(await store.GetBytesAsync(bucket, BucketLayout.Batch(name), cancellationToken: ct), ContractJson.Options);
        }
        catch (Exception e) when (e is ObjectNotFoundException or BucketNotFoundException or JsonException)
        {
            return null;
        }
    }

    public static Task WriteBatchAsync(this IObjectStore store, string bucket, BatchRecord record, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(record);
        return store.PutBytesAsync(bucket, BucketLayout.Batch(record.Name), JsonSerializer.SerializeToUtf8Bytes(record, ContractJson.Options),
            new ObjectWriteOptions("application/json"), ct);
    }

    /// <summary>Every readable batch record of the bucket, in name order (none when the bucket does not exist).</summary>
    public static async IAsyncEnumerable<BatchRecord> ListBatchesAsync(this IObjectStore store, string bucket, [EnumeratorCancellation] CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(store);
        var names = new List<string>();
        try
        {
            await foreach (var listed in store.ListAsync(bucket, BucketLayout.BatchesFolder, ct))
                if (listed.Key.EndsWith("/batch.json", StringComparison.Ordinal))
                    names.Add(listed.Key[BucketLayout.BatchesFolder.Length..^"/batch.json".Length]);
        }
        catch (BucketNotFoundException)
        {
        }
        foreach (var name in names.Order(StringComparer.Ordinal))
            if (await store.ReadBatchAsync(bucket, name, ct) is { } record)
                yield return record;
    }
}
