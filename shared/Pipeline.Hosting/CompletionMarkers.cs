using System.Text.Json;
using Pipeline.Contracts;
using Pipeline.Storage;

namespace Pipeline.Hosting;

/// <summary>What a completion marker's key holds: nothing, a marker, or something that cannot be read as one.</summary>
/// <param name="Exists">An object is at the key.</param>
/// <param name="Marker">The marker; null when the key is empty or its object is not a readable marker.</param>
public readonly record struct MarkerLookup(bool Exists, SeriesCompletion? Marker)
{
    /// <summary>An object is there but it is not a marker (corrupt JSON, a JSON null): each stage decides what that means.</summary>
    public bool Unreadable => Exists && Marker is null;
}

/// <summary>
/// The one reader and writer of completion markers (<see cref="SeriesCompletion"/> at <see cref="BucketLayout.CompletionMarker"/>):
/// the denoise worker writes them, ingest, the worker, evaluation and the CLI read them.
/// </summary>
public static class CompletionMarkers
{
    /// <summary>Where the marker of a series and model version lives in <paramref name="bucket"/>.</summary>
    public static ObjectRef Of(string bucket, string studyUid, string seriesUid, string modelVersion) =>
        new(bucket, BucketLayout.CompletionMarker(studyUid, seriesUid, modelVersion));

    /// <summary>
    /// Whether <paramref name="marker"/> makes <paramref name="job"/> unnecessary: it records the job's revision and instance
    /// set, or a newer revision that replaced it.
    /// </summary>
    public static bool Covers(this SeriesCompletion marker, DenoiseSeries job)
    {
        ArgumentNullException.ThrowIfNull(marker);
        ArgumentNullException.ThrowIfNull(job);
        return marker.Revision > job.Revision || (marker.Revision == job.Revision && marker.SourceFingerprint == job.SourceFingerprint);
    }

    /// <summary>Reads the marker at <paramref name="marker"/>; a missing bucket or object is "nothing there", other storage errors propagate.</summary>
    public static async Task<MarkerLookup> ReadMarkerAsync(this IObjectStore store, ObjectRef marker, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(marker);
        byte[] bytes;
        try
        {
            bytes = await store.GetBytesAsync(marker.Bucket, marker.Key, cancellationToken: ct);
        }
        catch (Exception e) when (e is ObjectNotFoundException or BucketNotFoundException)
        {
            return new MarkerLookup(false, null);
        }
        try
        {
            return new MarkerLookup(true, JsonSerializer.Deserialize<SeriesCompletion>(bytes, ContractJson.Options));
        }
        catch (JsonException)
        {
            return new MarkerLookup(true, null);
        }
    }

    /// <summary>Writes <paramref name="completion"/> as its series' marker in <paramref name="bucket"/> and returns where.</summary>
    public static async Task<ObjectRef> WriteMarkerAsync(this IObjectStore store, string bucket, SeriesCompletion completion, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(completion);
        var marker = Of(bucket, completion.StudyInstanceUid, completion.SeriesInstanceUid, completion.ModelVersion);
        await store.PutBytesAsync(marker.Bucket, marker.Key, JsonSerializer.SerializeToUtf8Bytes(completion, ContractJson.Options),
            new ObjectWriteOptions("application/json"), ct);
        return marker;
    }
}
