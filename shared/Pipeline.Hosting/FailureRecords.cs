using System.Text.Json;
using Pipeline.Contracts;
using Pipeline.Storage;

namespace Pipeline.Hosting;

/// <summary>Writes failure records where operators look: one JSON document per failed object and stage.</summary>
public static class FailureRecords
{
    /// <summary>
    /// Key of the failure record for <paramref name="source"/> at <paramref name="stage"/>: named after the source key
    /// when that makes a valid key, else after its hash (source keys are untrusted: control characters, '..', or so long
    /// that the record's prefix pushes it past S3's 1024 bytes).
    /// </summary>
    public static string KeyOf(PipelineStage stage, ObjectRef source)
    {
        ArgumentNullException.ThrowIfNull(source);
        var key = BucketLayout.FailureRecord(stage, source);
        return ObjectNames.IsValidKey(key) ? key : BucketLayout.FailureRecordOfUnusableKey(stage, source);
    }

    /// <summary>Writes <paramref name="record"/> at <see cref="KeyOf"/> in <paramref name="bucket"/> and returns where.</summary>
    public static async Task<ObjectRef> WriteAsync(this IObjectStore store, string bucket, FailureRecord record, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(record);
        var key = KeyOf(record.Stage, record.Source);
        await store.PutBytesAsync(bucket, key, JsonSerializer.SerializeToUtf8Bytes(record, ContractJson.Options), new ObjectWriteOptions("application/json"), ct);
        return new ObjectRef(bucket, key);
    }
}
