using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Pipeline.Contracts;
using Pipeline.Denoising.Evaluation;
using Pipeline.Dicom;
using Pipeline.Hosting;
using Pipeline.Imaging;
using Pipeline.Imaging.Dicom;
using Pipeline.Storage;

namespace Pipeline.TrainingCoordinator;

/// <summary>One series of a run's data: where it is, its study (for the split) and its instances, as the run plan keeps them.</summary>
/// <param name="Source">"{bucket}/{folder} series {UID hash}": names the series in lineage without patient identifiers.</param>
/// <param name="Sha256">Of the lines "key SHA-256(object)" in key order: any changed or renamed object changes it.</param>
internal sealed record PlannedSeries(string Source, string StudyInstanceUid, IReadOnlyList<ObjectRef> Instances, string Sha256);

/// <summary>A series read into memory.</summary>
internal sealed record LoadedSeries(PlannedSeries Series, Volume Volume);

/// <summary>
/// Reads the training data from the configured "bucket/prefix" entries: every object a DICOM image, grouped into series by
/// Study and Series Instance UID. An object that is not a readable image, or a series whose slices do not stack, fails
/// alone with a failure record (stage training) in the output bucket; the rest is used. Reserved data (inia19) is never read.
/// </summary>
internal sealed partial class TrainingData(IObjectStore store, IOptions<StorageOptions> storage, IOptions<LimitsOptions> limits,
    TimeProvider clock, ILogger<TrainingData> logger)
{
    private sealed record ReadInstance(ObjectRef Object, string Study, SeriesInstance Instance, string Sha256);

    /// <summary>Every readable series under <paramref name="locations"/>, in source order.</summary>
    public async Task<IReadOnlyList<LoadedSeries>> ReadAsync(IEnumerable<string> locations, CancellationToken ct)
    {
        var instances = new List<ReadInstance>();
        foreach (var location in locations)
        {
            var (bucket, prefix) = Parse(location);
            await foreach (var listed in store.ListAsync(bucket, prefix, ct))
            {
                if (HeldOutData.IsHeldOut(listed.Key)) continue;
                if (await ReadInstanceAsync(new ObjectRef(bucket, listed.Key), ct) is { } instance) instances.Add(instance);
            }
        }
        var series = new List<LoadedSeries>();
        foreach (var group in instances.GroupBy(i => (i.Study, i.Instance.SeriesInstanceUid)))
            if (await StackAsync([.. group], ct) is { } loaded) series.Add(loaded);
        return [.. series.OrderBy(s => s.Series.Source, StringComparer.Ordinal)];
    }

    /// <summary>The series of a run plan, read again (a resumed run trains on exactly the data it planned with).</summary>
    public async Task<IReadOnlyList<LoadedSeries>> ReadAsync(IReadOnlyList<PlannedSeries> planned, CancellationToken ct)
    {
        var series = new List<LoadedSeries>();
        foreach (var plan in planned)
        {
            var instances = new List<SeriesInstance>();
            foreach (var obj in plan.Instances)
                instances.Add(SeriesInstance.From(DicomFile.Open(await store.GetBytesAsync(obj.Bucket, obj.Key, cancellationToken: ct), limits.Value.ToReadOptions()), obj.ToString()));
            series.Add(new LoadedSeries(plan, SeriesInstance.ToVolume(SeriesInstance.Order(instances))));
        }
        return series;
    }

    /// <summary>"bucket/prefix" (prefix may be empty).</summary>
    public static (string Bucket, string Prefix) Parse(string location)
    {
        var slash = location.IndexOf('/', StringComparison.Ordinal);
        return slash < 0 ? (location, "") : (location[..slash], location[(slash + 1)..]);
    }

    private async Task<ReadInstance?> ReadInstanceAsync(ObjectRef obj, CancellationToken ct)
    {
        byte[] bytes;
        try
        {
            bytes = await store.GetBytesAsync(obj.Bucket, obj.Key, cancellationToken: ct);
        }
        catch (ObjectNotFoundException)
        {
            return null; // deleted since the listing: not training data any more
        }
        try
        {
            var file = DicomFile.Open(bytes, limits.Value.ToReadOptions());
            var study = file.Dataset.GetString(DicomTags.StudyInstanceUID);
            if (string.IsNullOrEmpty(study)) throw new InvalidDataException("no Study Instance UID (0020,000D): it cannot be split by study");
            return new ReadInstance(obj, study, SeriesInstance.From(file, obj.ToString()), Hex(SHA256.HashData(bytes)));
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            await FailAsync(obj, $"training data is not a readable DICOM image: {e.Message}", e.GetType().Name, ct);
            return null;
        }
    }

    private async Task<LoadedSeries?> StackAsync(List<ReadInstance> group, CancellationToken ct)
    {
        var ordered = group.OrderBy(i => i.Object.Key, StringComparer.Ordinal).ToList();
        try
        {
            var volume = SeriesInstance.ToVolume(SeriesInstance.Order(ordered.Select(i => i.Instance)));
            var first = ordered[0].Object;
            var folder = first.Key.LastIndexOf('/') is var at and >= 0 ? first.Key[..(at + 1)] : "";
            var lines = string.Concat(ordered.Select(i => $"{i.Object.Key} {i.Sha256}\n"));
            var source = $"{first.Bucket}/{folder} series {Hex(SHA256.HashData(Encoding.UTF8.GetBytes(ordered[0].Instance.SeriesInstanceUid)))[..12]}";
            return new LoadedSeries(new PlannedSeries(source, group[0].Study, [.. ordered.Select(i => i.Object)], Hex(SHA256.HashData(Encoding.UTF8.GetBytes(lines)))), volume);
        }
        catch (Exception e) when (e is ArgumentException or InvalidDataException or InvalidOperationException)
        {
            foreach (var instance in ordered)
                await FailAsync(instance.Object, $"training series does not stack into a volume: {e.Message}", e.GetType().Name, ct);
            return null;
        }
    }

    private async Task FailAsync(ObjectRef obj, string reason, string errorType, CancellationToken ct)
    {
        await store.WriteAsync(storage.Value.OutputBucket, new FailureRecord(obj, PipelineStage.Training, reason, errorType, clock.GetUtcNow()), ct);
        LogSkipped(logger, obj.ToString(), reason);
    }

    private static string Hex(byte[] hash) => Convert.ToHexStringLower(hash);

    [LoggerMessage(4001, LogLevel.Warning, "Training object {Object} skipped: {Reason} (see its failure record)")]
    private static partial void LogSkipped(ILogger logger, string @object, string reason);
}
