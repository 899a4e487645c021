using Microsoft.Extensions.Options;
using Pipeline.Contracts;
using Pipeline.Storage;
using Pipeline.Storage.Local;

namespace Pipeline.Hosting.Tests;

/// <summary>The output bucket's retention sweep over a real local-folder store.</summary>
public sealed class OutputBucketRetentionTests : IDisposable
{
    private const string Study = "1.2", Model = "denoiser/1";
    private readonly string _root = Directory.CreateTempSubdirectory("retention-tests-").FullName;
    private readonly LocalFolderObjectStore _store;
    private readonly OutputBucketRetention _retention;

    public OutputBucketRetentionTests()
    {
        _store = new LocalFolderObjectStore(new LocalFolderStorageOptions { Root = _root });
        _retention = new OutputBucketRetention(_store, Options.Create(new StorageOptions { OutputBucket = "denoised" }));
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    /// <summary>A series' outputs: derived instances of the given revisions, a marker naming <paramref name="markerRevision"/> (if any) and a report.</summary>
    private async Task<List<string>> WriteSeriesAsync(string bucket, string series, int? markerRevision, params int[] revisions)
    {
        await _store.EnsureBucketAsync(bucket);
        var keys = revisions.Select(r => BucketLayout.DerivedInstance(Study, series, Model, r, $"2.25.{r}")).ToList();
        keys.Add(BucketLayout.Report(Study, series, Model));
        foreach (var key in keys) await _store.PutBytesAsync(bucket, key, [1, 2, 3]);
        if (markerRevision is { } revision)
        {
            var marker = await _store.WriteMarkerAsync(bucket, new SeriesCompletion(Study, series, "2.25.9", Model, revision, "fp", [], [],
                DateTimeOffset.UtcNow, new Dictionary<string, double>()), default);
            keys.Add(marker.Key);
        }
        return keys;
    }

    private async Task<string> WriteFailureAsync(string bucket, string key)
    {
        await _store.EnsureBucketAsync(bucket);
        return (await _store.WriteAsync(bucket, new FailureRecord(new ObjectRef("incoming", key), PipelineStage.Ingest, "unreadable", "X", DateTimeOffset.UtcNow), default)).Key;
    }

    private async Task<List<string>> KeysAsync(string bucket) => (await _store.ListAsync(bucket).ToListAsync()).Select(o => o.Key).ToList();

    [Fact]
    public async Task Aged_failure_records_and_superseded_revisions_go_while_current_newer_and_unmarked_revisions_and_every_input_stay()
    {
        // Requirement: retention deletes what outlived its lifetime in the output bucket only; inputs are never deleted, even
        // objects of the input bucket laid out exactly like outputs.
        var inputs = await WriteSeriesAsync("incoming", "1.2.3", markerRevision: 2, 1, 2);
        inputs.Add(await WriteFailureAsync("incoming", "x.dcm"));
        var record = await WriteFailureAsync("denoised", "a/1.dcm");
        var done = await WriteSeriesAsync("denoised", "1.2.3", markerRevision: 2, 1, 2, 3); // r1 superseded, r3 in progress
        var unmarked = await WriteSeriesAsync("denoised", "1.2.4", markerRevision: null, 1);
        var options = new RetentionOptions();

        Assert.Equal(0, await _retention.SweepAsync(options, DateTimeOffset.UtcNow, default)); // nothing aged yet
        var deleted = await _retention.SweepAsync(options, DateTimeOffset.UtcNow + TimeSpan.FromDays(100), default);

        Assert.Equal(2, deleted);
        Assert.Equal(inputs.Order(StringComparer.Ordinal), await KeysAsync("incoming"));
        Assert.Equal(done.Where(k => !k.Contains("/r1/", StringComparison.Ordinal)).Concat(unmarked).Order(StringComparer.Ordinal),
            await KeysAsync("denoised"));
        Assert.DoesNotContain(record, await KeysAsync("denoised"));
    }

    [Fact]
    public void Lifetimes_are_validated_as_settings()
    {
        // Requirement: a retention lifetime outside its range stops the service with a message naming the setting.
        var failures = ValidatedOptions.Validate(new RetentionOptions { FailureRecords = TimeSpan.FromMinutes(1), Interval = TimeSpan.Zero }, RetentionOptions.Section);

        Assert.Contains(failures, f => f.StartsWith("setting 'Retention:FailureRecords' (environment variable Retention__FailureRecords)", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("setting 'Retention:Interval'", StringComparison.Ordinal));
    }
}
