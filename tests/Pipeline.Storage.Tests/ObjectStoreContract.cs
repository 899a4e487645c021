using System.Security.Cryptography;
using System.Text;
using Pipeline.Storage;

namespace Pipeline.Storage.Tests;

/// <summary>What every <see cref="IObjectStore"/> must do. Each store gets a subclass that supplies it; the S3
/// one lives in Pipeline.IntegrationTests (it needs the test servers), which links this file.</summary>
/// <remarks>Expected values come from the test's own bytes and from S3 semantics (an ETag of a single-part
/// object is the hex MD5 of its bytes), never from the store under test.</remarks>
public abstract class ObjectStoreContract : IAsyncLifetime
{
    /// <summary>A fresh bucket per test, so tests never see each other's objects.</summary>
    protected string Bucket { get; } = "contract-" + Guid.NewGuid().ToString("N")[..12];

    /// <summary>The store under test.</summary>
    protected abstract IObjectStore Store { get; }

    /// <summary>How many keys the paged-listing test writes: more than one S3 page (1000 keys).</summary>
    protected virtual int ManyKeys => 1050;

    public virtual Task InitializeAsync() => Store.EnsureBucketAsync(Bucket);

    public virtual Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task Written_bytes_read_back_identically()
    {
        var bytes = RandomBytes(300_001, seed: 1);
        await Store.PutBytesAsync(Bucket, "series/1.2.3/instance-0001.dcm", bytes);

        Assert.Equal(bytes, await Store.GetBytesAsync(Bucket, "series/1.2.3/instance-0001.dcm"));
    }

    [Fact]
    public async Task A_bounded_read_returns_an_object_up_to_the_limit_and_refuses_one_past_it()
    {
        var bytes = Enumerable.Range(0, 200_000).Select(i => (byte)i).ToArray(); // several read chunks
        await Store.PutBytesAsync(Bucket, "bounded/object", bytes);

        Assert.Equal(bytes, await Store.GetBytesUpToAsync(Bucket, "bounded/object", bytes.Length));
        Assert.Null(await Store.GetBytesUpToAsync(Bucket, "bounded/object", bytes.Length - 1));
    }

    [Fact]
    public async Task Empty_object_round_trips()
    {
        await Store.PutBytesAsync(Bucket, "markers/done", Array.Empty<byte>());

        Assert.Empty(await Store.GetBytesAsync(Bucket, "markers/done"));
        Assert.Equal(0, (await Store.StatAsync(Bucket, "markers/done")).Size);
    }

    [Fact]
    public async Task Stat_reports_size_md5_etag_content_type_and_user_metadata()
    {
        var bytes = RandomBytes(12_345, seed: 2);
        var metadata = new Dictionary<string, string> { ["series-uid"] = "1.2.840.1234.5", ["model-version"] = "v7" };
        await Store.PutBytesAsync(Bucket, "a/b.dcm", bytes, new ObjectWriteOptions("application/dicom", metadata));

        var info = await Store.StatAsync(Bucket, "a/b.dcm");

        Assert.Equal(Bucket, info.Bucket);
        Assert.Equal("a/b.dcm", info.Key);
        Assert.Equal(12_345, info.Size);
        Assert.Equal(Convert.ToHexStringLower(MD5.HashData(bytes)), info.ETag);
        Assert.Equal("application/dicom", info.ContentType);
        Assert.Equal(metadata.OrderBy(p => p.Key), info.Metadata.OrderBy(p => p.Key));
        Assert.InRange(info.LastModified, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddMinutes(5));
    }

    [Fact]
    public async Task Overwrite_replaces_bytes_and_metadata()
    {
        await Store.PutBytesAsync(Bucket, "k", "first"u8.ToArray(), new ObjectWriteOptions(Metadata: new Dictionary<string, string> { ["v"] = "1" }));
        await Store.PutBytesAsync(Bucket, "k", "second!"u8.ToArray(), new ObjectWriteOptions(Metadata: new Dictionary<string, string> { ["v"] = "2" }));

        Assert.Equal("second!"u8.ToArray(), await Store.GetBytesAsync(Bucket, "k"));
        var info = await Store.StatAsync(Bucket, "k");
        Assert.Equal(7, info.Size);
        Assert.Equal("2", info.Metadata["v"]);
    }

    [Fact]
    public async Task Missing_object_raises_ObjectNotFound_naming_bucket_and_key()
    {
        var error = await Assert.ThrowsAsync<ObjectNotFoundException>(() => Store.GetBytesAsync(Bucket, "no/such.dcm"));
        Assert.Contains(Bucket, error.Message, StringComparison.Ordinal);
        Assert.Contains("no/such.dcm", error.Message, StringComparison.Ordinal);
        Assert.Equal((Bucket, "no/such.dcm"), (error.Bucket, error.Key));

        await Assert.ThrowsAsync<ObjectNotFoundException>(() => Store.StatAsync(Bucket, "no/such.dcm"));
        Assert.Null(await Store.TryStatAsync(Bucket, "no/such.dcm"));
        Assert.False(await Store.ExistsAsync(Bucket, "no/such.dcm"));
    }

    [Fact]
    public async Task Missing_bucket_raises_ObjectNotFound_on_read_and_BucketNotFound_on_list()
    {
        const string missing = "no-such-bucket-7f3a";

        await Assert.ThrowsAsync<ObjectNotFoundException>(() => Store.GetBytesAsync(missing, "x"));
        Assert.Null(await Store.TryStatAsync(missing, "x"));
        var error = await Assert.ThrowsAsync<BucketNotFoundException>(async () => await Store.ListAsync(missing).ToListAsync());
        Assert.Contains(missing, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Listing_returns_keys_under_the_prefix_in_key_order_with_sizes()
    {
        string[] keys = ["a/2", "a/1", "a/sub/3", "ab", "b/1"];
        foreach (var (key, i) in keys.Select((k, i) => (k, i)))
        {
            await Store.PutBytesAsync(Bucket, key, new byte[i + 1]);
        }

        var underA = await Store.ListAsync(Bucket, "a/").ToListAsync();
        Assert.Equal(["a/1", "a/2", "a/sub/3"], underA.Select(o => o.Key));
        Assert.Equal([2L, 1L, 3L], underA.Select(o => o.Size));
        Assert.Equal(Convert.ToHexStringLower(MD5.HashData(new byte[2])), underA[0].ETag);

        Assert.Equal(["a/1", "a/2", "a/sub/3", "ab"], (await Store.ListAsync(Bucket, "a").ToListAsync()).Select(o => o.Key));
        Assert.Equal(["a/1", "a/2", "a/sub/3", "ab", "b/1"], (await Store.ListAsync(Bucket).ToListAsync()).Select(o => o.Key));
        Assert.Empty(await Store.ListAsync(Bucket, "zzz/").ToListAsync());
    }

    [Fact]
    public async Task Listing_spans_more_than_one_page()
    {
        // Key names sort in the same order as their numbers, so the expected listing is known up front.
        var expected = Enumerable.Range(0, ManyKeys).Select(i => $"many/{i:D5}").ToList();
        await Parallel.ForEachAsync(expected, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (key, ct) =>
            await Store.PutBytesAsync(Bucket, key, Encoding.ASCII.GetBytes(key), cancellationToken: ct));
        await Store.PutBytesAsync(Bucket, "other/x", new byte[1]);

        var listed = await Store.ListAsync(Bucket, "many/").ToListAsync();

        Assert.Equal(expected, listed.Select(o => o.Key));
        Assert.All(listed, o => Assert.Equal(10, o.Size));
    }

    [Fact]
    public async Task Delete_removes_the_object_and_tolerates_a_missing_one()
    {
        await Store.PutBytesAsync(Bucket, "d/x", new byte[3]);

        await Store.DeleteAsync(Bucket, "d/x");
        await Store.DeleteAsync(Bucket, "d/x");

        Assert.False(await Store.ExistsAsync(Bucket, "d/x"));
        Assert.Empty(await Store.ListAsync(Bucket, "d/").ToListAsync());
    }

    [Fact]
    public async Task Copy_duplicates_bytes_content_type_and_metadata_across_buckets()
    {
        var target = Bucket + "-copy";
        await Store.EnsureBucketAsync(target);
        var bytes = RandomBytes(70_000, seed: 3);
        var metadata = new Dictionary<string, string> { ["study"] = "s1" };
        await Store.PutBytesAsync(Bucket, "src/one.dcm", bytes, new ObjectWriteOptions("application/dicom", metadata));

        await Store.CopyAsync(Bucket, "src/one.dcm", target, "dst/one copy.dcm");

        Assert.Equal(bytes, await Store.GetBytesAsync(target, "dst/one copy.dcm"));
        var copy = await Store.StatAsync(target, "dst/one copy.dcm");
        Assert.Equal("application/dicom", copy.ContentType);
        Assert.Equal("s1", copy.Metadata["study"]);
        Assert.Equal(bytes, await Store.GetBytesAsync(Bucket, "src/one.dcm")); // the source is untouched
    }

    [Fact]
    public async Task Copy_of_a_missing_source_raises_ObjectNotFound_naming_the_source()
    {
        var error = await Assert.ThrowsAsync<ObjectNotFoundException>(() => Store.CopyAsync(Bucket, "gone", Bucket, "dst"));

        Assert.Equal((Bucket, "gone"), (error.Bucket, error.Key));
        Assert.False(await Store.ExistsAsync(Bucket, "dst"));
    }

    [Fact]
    public async Task Ranged_read_returns_exactly_the_requested_bytes()
    {
        var bytes = RandomBytes(100_000, seed: 4);
        await Store.PutBytesAsync(Bucket, "r", bytes);

        Assert.Equal(bytes[1000..1132], await Store.GetBytesAsync(Bucket, "r", new ByteRange(1000, 132)));
        Assert.Equal(bytes[..1], await Store.GetBytesAsync(Bucket, "r", new ByteRange(0, 1)));
        Assert.Equal(bytes[99_990..], await Store.GetBytesAsync(Bucket, "r", new ByteRange(99_990, 500))); // cut at the end
        await Assert.ThrowsAsync<ObjectNotFoundException>(() => Store.GetBytesAsync(Bucket, "no-r", new ByteRange(0, 10)));
    }

    [Fact]
    public async Task Keys_with_spaces_and_unicode_round_trip()
    {
        const string key = "studies/Ünïcode study/series 1/img+1 (a)&b=c.dcm";
        await Store.PutBytesAsync(Bucket, key, "x"u8.ToArray());

        Assert.Equal("x"u8.ToArray(), await Store.GetBytesAsync(Bucket, key));
        Assert.Equal([key], (await Store.ListAsync(Bucket, "studies/").ToListAsync()).Select(o => o.Key));
    }

    [Theory]
    [InlineData("../escape")]
    [InlineData("a/../../escape")]
    [InlineData("/absolute")]
    [InlineData("a//b")]
    [InlineData("a/./b")]
    [InlineData("back\\slash")]
    [InlineData("")]
    public async Task Keys_that_could_escape_or_are_ambiguous_are_refused(string key)
    {
        await Assert.ThrowsAnyAsync<ArgumentException>(() => Store.PutBytesAsync(Bucket, key, new byte[1]));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => Store.GetBytesAsync(Bucket, key));
    }

    [Fact]
    public async Task Ensuring_an_existing_bucket_keeps_its_objects()
    {
        await Store.PutBytesAsync(Bucket, "keep", new byte[1]);

        await Store.EnsureBucketAsync(Bucket);

        Assert.True(await Store.ExistsAsync(Bucket, "keep"));
    }

    protected static byte[] RandomBytes(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }
}
