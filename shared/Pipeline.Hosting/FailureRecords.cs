using System.Text.Json;
using MassTransit;
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
