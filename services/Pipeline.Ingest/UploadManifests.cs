using System.Text.Json;
using Pipeline.Contracts;
using Pipeline.Storage;

namespace Pipeline.Ingest;

/// <summary>A marker object seen for the first time: its folder and, when its manifest lists them, the keys expected there.</summary>
internal sealed record UploadMarker(string Folder, IReadOnlyCollection<string>? Expected);

/// <summary>
/// The uploader's marker objects (<see cref="IngestOptions.MarkerFileName"/>): recognises them, reads each new one's optional
/// JSON manifest (expected instances, priority) and records a manifest that is not valid JSON as a failure.
/// </summary>
internal sealed class UploadManifests(IObjectStore store, IngestOptions options, JobPriorities priorities, IngestFailures failures)
{
    private static readonly JsonSerializerOptions ManifestJson = new() { PropertyNameCaseInsensitive = true };
    private readonly Dictionary<ObjectRef, string?> _seen = [];

    /// <summary>Reads the marker unless this version of it (ETag) was read before; null then.</summary>
    public async Task<UploadMarker?> ReadNewAsync(ObjectRef marker, string? etag, CancellationToken ct)
    {
        // Seen before the folder is listed: the listing meets the marker again and must stop there.
        if (_seen.TryGetValue(marker, out var seen) && seen == etag) return null;
        _seen[marker] = etag;

        var folder = marker.Key[..(marker.Key.Length - options.MarkerFileName.Length)];
        IReadOnlyCollection<string>? expected = null;
        try
        {
            var manifest = await store.GetBytesAsync(marker.Bucket, marker.Key, cancellationToken: ct);
            if (manifest.Length > 0)
            {
                var parsed = JsonSerializer.Deserialize<UploadManifest>(manifest, ManifestJson) ?? new UploadManifest();
                expected = parsed.Instances?.Select(k => folder + k).ToList();
                if (Enum.TryParse<JobPriority>(parsed.Priority, ignoreCase: true, out var priority) && Enum.IsDefined(priority)) // "7" parses too
                    priorities.SetFolder(folder, priority);
            }
        }
        catch (ObjectNotFoundException)
        {
            return null; // deleted between listing and reading: nothing to act on
        }
        catch (JsonException e)
        {
            await failures.RecordAsync(marker, $"manifest is not valid JSON ({e.Message}); treated as a marker without a list", nameof(JsonException), null, null, ct);
        }
        return new UploadMarker(folder, expected);
    }

    /// <summary>The optional JSON body of the uploader's marker object.</summary>
    private sealed record UploadManifest(List<string>? Instances = null, string? Priority = null);
}
