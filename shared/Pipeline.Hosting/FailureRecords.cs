using System.Text.Json;
using MassTransit;
using Pipeline.Contracts;
using Pipeline.Storage;

namespace Pipeline.Hosting;

/// <summary>
/// The one reader and writer of failure records where operators look: one JSON document per failed object and stage.
/// A later failure of the same object and stage replaces the record, counting the attempts and keeping when it was retried.
/// </summary>
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
        if (await store.ReadFailureAsync(bucket, key, ct) is { } earlier)
            record = record with { Attempts = earlier.Attempts + record.Attempts, RetriedAt = earlier.RetriedAt };
        await store.PutFailureAsync(bucket, key, record, ct);
        return new ObjectRef(bucket, key);
    }

    /// <summary>Records that an operator asked for a retry of the record at <paramref name="key"/>.</summary>
    public static async Task MarkRetriedAsync(this IObjectStore store, string bucket, string key, DateTimeOffset at, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(store);
        if (await store.ReadFailureAsync(bucket, key, ct) is { } record)
            await store.PutFailureAsync(bucket, key, record with { RetriedAt = at }, ct);
    }

    /// <summary>The record at <paramref name="key"/>; null when there is none or it is not a readable record.</summary>
    public static async Task<FailureRecord?> ReadFailureAsync(this IObjectStore store, string bucket, string key, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(store);
        try
        {
            return JsonSerializer.Deserialize<FailureRecord>(await store.GetBytesAsync(bucket, key, cancellationToken: ct), ContractJson.Options);
        }
        catch (Exception e) when (e is ObjectNotFoundException or BucketNotFoundException or JsonException)
        {
            return null;
        }
    }

    private static Task PutFailureAsync(this IObjectStore store, string bucket, string key, FailureRecord record, CancellationToken ct) =>
        store.PutBytesAsync(bucket, key, JsonSerializer.SerializeToUtf8Bytes(record, ContractJson.Options), new ObjectWriteOptions("application/json"), ct);

    /// <summary>
    /// The record of a message that is in its endpoint's error queue (every retry failed, or it was refused at once):
    /// keyed by <paramref name="record"/>'s source, with the fault's exception as the reason. Returns the record as written.
    /// </summary>
    public static async Task<(FailureRecord Record, ObjectRef At)> WriteFaultAsync<T>(this IObjectStore store, string bucket, Fault<T> fault,
        Func<string, string, FailureRecord> record, CancellationToken ct)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(fault);
        ArgumentNullException.ThrowIfNull(record);
        var exception = fault.Exceptions.FirstOrDefault();
        var written = record($"{typeof(T).Name} is in the error queue: {exception?.Message ?? "unknown error"}", exception?.ExceptionType.Split('.').Last() ?? "Unknown");
        await store.EnsureBucketAsync(bucket, ct);
        return (written, await store.WriteAsync(bucket, written, ct));
    }
}
