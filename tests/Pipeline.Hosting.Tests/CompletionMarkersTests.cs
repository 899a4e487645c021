using System.Text;
using System.Text.Json;
using Pipeline.Contracts;
using Pipeline.Storage;
using Pipeline.Storage.Local;

namespace Pipeline.Hosting.Tests;

public sealed class CompletionMarkersTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("marker-tests-").FullName;
    private readonly LocalFolderObjectStore _store;
    private readonly ObjectRef _marker = CompletionMarkers.Of("denoised", "1.2", "1.2.3", "cdae/1");

    public CompletionMarkersTests() => _store = new LocalFolderObjectStore(new LocalFolderStorageOptions { Root = _root });

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private static SeriesCompletion Completion() => new("1.2", "1.2.3", "2.25.7", "cdae/1", 2, "fp",
        [new DenoisedInstance(new ObjectRef("incoming", "a/1.dcm"), new ObjectRef("denoised", "x/1.dcm"))], [new ObjectRef("incoming", "a/2.dcm")],
        new DateTimeOffset(2026, 11, 25, 1, 0, 0, TimeSpan.Zero), new Dictionary<string, double> { ["denoise"] = 1.5 });

    [Fact]
    public async Task A_missing_bucket_or_object_is_nothing_there_not_an_unreadable_marker()
    {
        var noBucket = await _store.ReadMarkerAsync(_marker, default);
        await _store.EnsureBucketAsync("denoised");
        var noObject = await _store.ReadMarkerAsync(_marker, default);

        Assert.False(noBucket.Exists);
        Assert.False(noObject.Exists);
        Assert.False(noObject.Unreadable);
    }

    [Theory]
    [InlineData("{ not json")]
    [InlineData("null")]
    public async Task An_object_that_is_not_a_marker_is_unreadable(string content)
    {
        await _store.EnsureBucketAsync("denoised");
        await _store.PutBytesAsync(_marker.Bucket, _marker.Key, Encoding.UTF8.GetBytes(content));

        var found = await _store.ReadMarkerAsync(_marker, default);

        Assert.True(found.Unreadable);
        Assert.Null(found.Marker);
    }

    [Fact]
    public async Task The_marker_is_written_at_its_series_key_as_indented_JSON_with_the_record_names_and_reads_back()
    {
        await _store.EnsureBucketAsync("denoised");
        var completion = Completion();

        var written = await _store.WriteMarkerAsync("denoised", completion, default);

        Assert.Equal(_marker, written);
        var bytes = await _store.GetBytesAsync(_marker.Bucket, _marker.Key);
        Assert.Equal(JsonSerializer.SerializeToUtf8Bytes(completion, new JsonSerializerOptions { WriteIndented = true }), bytes);
        Assert.Contains("\n  \"SourceFingerprint\": \"fp\",", Encoding.UTF8.GetString(bytes), StringComparison.Ordinal);
        var read = (await _store.ReadMarkerAsync(_marker, default)).Marker!;
        Assert.Equal((2, "fp", 1, 1), (read.Revision, read.SourceFingerprint, read.Instances.Count, read.FailedInstances.Count));
    }

    [Fact]
    public async Task Property_names_are_read_in_any_letter_case()
    {
        await _store.EnsureBucketAsync("denoised");
        var json = JsonSerializer.Serialize(Completion(), new JsonSerializerOptions { PropertyNamingPolicy = JsonNamingPolicy.CamelCase });
        await _store.PutBytesAsync(_marker.Bucket, _marker.Key, Encoding.UTF8.GetBytes(json));

        Assert.Equal(2, (await _store.ReadMarkerAsync(_marker, default)).Marker?.Revision);
    }
}
