using System.Text.Json;
using Pipeline.Contracts;
using Pipeline.Hosting;
using Pipeline.Storage;

namespace Pipeline.Reporting;

/// <summary>One series' state as the output bucket records it.</summary>
public sealed record SeriesState(SeriesCompletion Marker, EvaluationReport? Report, string ReportKey);

/// <summary>One failure record.</summary>
public sealed record FailureState(FailureRecord Record, string Key);

/// <summary>
/// The pipeline's state read from the buckets alone (the system of record): series with a completion
/// marker are done (with their report when evaluated), failure records name failed objects, and input
/// objects in neither are pending. A failure record whose object a marker lists as denoised since (a retry, a
/// re-upload) is resolved: kept as history, not a failure.
/// </summary>
public sealed record PipelineStatus(IReadOnlyList<SeriesState> Done, IReadOnlyList<FailureState> Failures, IReadOnlyList<string> Pending,
    IReadOnlyList<FailureState> Resolved)
{
    /// <summary>Reads the output bucket, and the input bucket for pending objects unless <paramref name="inputBucket"/> is null.</summary>
    public static async Task<PipelineStatus> ReadAsync(IObjectStore store, string? inputBucket, string outputBucket, CancellationToken ct)
    {
        var done = new List<SeriesState>();
        var failures = new List<FailureState>();
        var accounted = new HashSet<ObjectRef>();
        await foreach (var listed in ListOrEmpty(store, outputBucket, "", ct))
        {
            if (BucketLayout.IsFailureRecord(listed.Key))
            {
                if (await store.ReadFailureAsync(outputBucket, listed.Key, ct) is { } record)
                {
                    failures.Add(new FailureState(record, listed.Key));
                    accounted.Add(record.Source);
                }
            }
            else if (BucketLayout.IsCompletionMarker(listed.Key)
                && (await store.ReadMarkerAsync(new ObjectRef(outputBucket, listed.Key), ct)).Marker is { } marker)
            {
                var reportKey = BucketLayout.Report(marker.StudyInstanceUid, marker.SeriesInstanceUid, marker.ModelVersion);
                var report = await ReadAsync<EvaluationReport>(store, outputBucket, reportKey, EvaluationReport.Json, ct);
                done.Add(new SeriesState(marker, report?.Revision == marker.Revision ? report : null, reportKey));
                accounted.UnionWith(marker.Instances.Select(i => i.Source));
                accounted.UnionWith(marker.FailedInstances);
            }
        }
        var denoised = done.SelectMany(s => s.Marker.Instances).Select(i => i.Source).ToHashSet();
        var resolved = failures.Where(f => denoised.Contains(f.Record.Source)).ToList();
        failures.RemoveAll(resolved.Contains);
        var pending = new List<string>();
        if (inputBucket is not null)
        {
            await foreach (var listed in ListOrEmpty(store, inputBucket, "", ct))
                if (!accounted.Contains(new ObjectRef(inputBucket, listed.Key)))
                    pending.Add(listed.Key);
        }
        return new PipelineStatus(done, failures, pending, resolved);
    }

    /// <summary>
    /// The part of this state about the input objects under <paramref name="prefix"/> (a batch): series with an instance
    /// there, failures of objects there. Pending objects are not kept.
    /// </summary>
    public PipelineStatus Within(ObjectRef prefix)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        bool Under(ObjectRef source) => source.Bucket == prefix.Bucket && source.Key.StartsWith(prefix.Key, StringComparison.Ordinal);
        return new PipelineStatus(
            [.. Done.Where(s => s.Marker.Instances.Any(i => Under(i.Source)) || s.Marker.FailedInstances.Any(Under))],
            [.. Failures.Where(f => Under(f.Record.Source))], [], [.. Resolved.Where(f => Under(f.Record.Source))]);
    }

    private static async IAsyncEnumerable<ListedObject> ListOrEmpty(IObjectStore store, string bucket, string prefix,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        IAsyncEnumerator<ListedObject> e = store.ListAsync(bucket, prefix, ct).GetAsyncEnumerator(ct);
        try
        {
            while (true)
            {
                try
                {
                    if (!await e.MoveNextAsync()) yield break;
                }
                catch (BucketNotFoundException)
                {
                    yield break;
                }
                yield return e.Current;
            }
        }
        finally
        {
            await e.DisposeAsync();
        }
    }

    private static async Task<T?> ReadAsync<T>(IObjectStore store, string bucket, string key, JsonSerializerOptions json, CancellationToken ct)
        where T : class
    {
        try
        {
            return JsonSerializer.Deserialize<T>(await store.GetBytesAsync(bucket, key, cancellationToken: ct), json);
        }
        catch (Exception e) when (e is ObjectNotFoundException or JsonException)
        {
            return null;
        }
    }
}
