using Microsoft.Extensions.Options;
using Pipeline.Contracts;
using Pipeline.Storage;

namespace Pipeline.Hosting;

/// <summary>
/// Retention in the output bucket (<see cref="StorageOptions.OutputBucket"/>, the only bucket it lists): failure records past
/// <see cref="RetentionOptions.FailureRecords"/>, and derived instances of revisions older than their series' completion
/// marker past <see cref="RetentionOptions.SupersededRevisions"/>. A revision newer than the marker (a job in progress) or
/// without a marker is never touched. Registered by ingest (one sweeper per deployment).
/// </summary>
public sealed class OutputBucketRetention(IObjectStore store, IOptions<StorageOptions> storage) : IRetentionSweep
{
    public async Task<int> SweepAsync(RetentionOptions options, DateTimeOffset now, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(options);
        var bucket = storage.Value.OutputBucket;
        var deleted = 0;
        try
        {
            await foreach (var record in store.ListAsync(bucket, BucketLayout.FailuresFolder, ct))
            {
                if (!BucketLayout.IsFailureRecord(record.Key) || now - record.LastModified < options.FailureRecords) continue;
                await store.DeleteAsync(bucket, record.Key, ct);
                deleted++;
            }

            // The keys of one series output folder are contiguous in a listing: each folder is settled when the next begins.
            var folder = new SeriesFolder("");
            await foreach (var listed in store.ListAsync(bucket, "studies/", ct))
            {
                var key = listed.Key;
                var isMarker = BucketLayout.IsCompletionMarker(key);
                var isInstance = BucketLayout.TryParseDerivedInstance(key, out var instanceFolder, out var revision);
                if (!isMarker && !isInstance) continue;
                var of = isMarker ? BucketLayout.SeriesOutputFolderOfMarker(key) : instanceFolder;
                if (of != folder.Path)
                {
                    deleted += await SettleAsync(folder, bucket, ct);
                    folder = new SeriesFolder(of);
                }
                if (isMarker) folder.Marker = (await store.ReadMarkerAsync(new ObjectRef(bucket, key), ct)).Marker;
                else if (now - listed.LastModified >= options.SupersededRevisions) folder.Aged.Add((key, revision));
            }
            deleted += await SettleAsync(folder, bucket, ct);
        }
        catch (BucketNotFoundException)
        {
            // nothing written yet
        }
        return deleted;
    }

    private async Task<int> SettleAsync(SeriesFolder folder, string bucket, CancellationToken ct)
    {
        if (folder.Marker is not { } marker) return 0; // no (readable) marker: no revision is known to be superseded
        var superseded = folder.Aged.Where(i => i.Revision < marker.Revision).ToList();
        foreach (var (key, _) in superseded)
            await store.DeleteAsync(bucket, key, ct);
        return superseded.Count;
    }

    /// <summary>One series output folder as the listing goes: its marker and its aged derived instances.</summary>
    private sealed class SeriesFolder(string path)
    {
        public string Path { get; } = path;

        public SeriesCompletion? Marker { get; set; }

        public List<(string Key, int Revision)> Aged { get; } = [];
    }
}
