using System.Text.Json;
using Pipeline.Contracts;
using Pipeline.Storage;
using Pipeline.Storage.Local;

namespace Pipeline.Hosting.Tests;

/// <summary>Every failed object gets a record it can be found by, whatever its (untrusted) key looks like.</summary>
public sealed class FailureRecordsTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("failure-record-tests-").FullName;
    private readonly LocalFolderObjectStore _store;

    public FailureRecordsTests()
    {
        _store = new LocalFolderObjectStore(new LocalFolderStorageOptions { Root = _root });
        _store.EnsureBucketAsync("denoised").GetAwaiter().GetResult();
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private static FailureRecord Record(ObjectRef source) =>
        new(source, PipelineStage.Ingest, "bad", "Test", new DateTimeOffset(2026, 12, 3, 1, 0, 0, TimeSpan.Zero));

    [Fact]
    public async Task A_readable_key_names_its_record()
    {
        var written = await _store.WriteAsync("denoised", Record(new ObjectRef("incoming", "study 1/x.dcm")), default);

        Assert.Equal("failures/ingest/incoming/study 1/x.dcm.json", written.Key);
    }

    /// <summary>A key S3 holds but that cannot be part of another key ('..', control characters), or a valid key so long
    /// that the record's prefix pushes it past 1024 bytes, used to make the record's write throw.</summary>
    [Theory]
    [InlineData("a/../b.dcm")]
    [InlineData("bell\u0007.dcm")]
    [InlineData("back\\slash.dcm")]
    [InlineData("long")]
    public async Task An_unusable_key_gets_a_record_named_by_its_hash_that_names_the_key_inside(string key)
    {
        if (key == "long") key = new string('k', 1020) + ".dcm"; // a valid key of 1024 bytes
        var source = new ObjectRef("incoming", key);

        var written = await _store.WriteAsync("denoised", Record(source), default);

        Assert.StartsWith("failures/unusable-keys/ingest/incoming/", written.Key, StringComparison.Ordinal);
        Assert.True(BucketLayout.IsFailureRecord(written.Key));
        var record = JsonSerializer.Deserialize<FailureRecord>(await _store.GetBytesAsync("denoised", written.Key), ContractJson.Options)!;
        Assert.Equal(source, record.Source);
        Assert.Equal(written.Key, FailureRecords.KeyOf(PipelineStage.Ingest, source));
    }
}
