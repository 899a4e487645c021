using System.Security.Cryptography;
using Pipeline.Storage.Local;

namespace Pipeline.Storage.Tests;

/// <summary>A temporary folder that deletes itself.</summary>
public sealed class TempFolder : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("pipeline-storage-").FullName;

    public void Dispose() => Directory.Delete(Path, recursive: true);
}

/// <summary>The shared contract, against the local-folder store.</summary>
public sealed class LocalFolderObjectStoreContract : ObjectStoreContract, IDisposable
{
    private readonly TempFolder _root = new();

    public LocalFolderObjectStoreContract() => Store = new LocalFolderObjectStore(new LocalFolderStorageOptions { Root = _root.Path });

    protected override IObjectStore Store { get; }

    public void Dispose() => _root.Dispose();
}

/// <summary>What only the local-folder store promises: its layout, atomic writes, and staying inside its root.</summary>
public sealed class LocalFolderObjectStoreTests : IDisposable
{
    private readonly TempFolder _root = new();
    private readonly LocalFolderObjectStore _store;

    public LocalFolderObjectStoreTests()
    {
        _store = new LocalFolderObjectStore(new LocalFolderStorageOptions { Root = _root.Path });
        _store.EnsureBucketAsync("incoming").GetAwaiter().GetResult();
    }

    public void Dispose() => _root.Dispose();

    [Fact]
    public async Task An_object_is_the_plain_file_bucket_slash_key()
    {
        await _store.PutBytesAsync("incoming", "study/series/1.dcm", [1, 2, 3]);

        Assert.Equal([1, 2, 3], await File.ReadAllBytesAsync(Path.Combine(_root.Path, "incoming", "study", "series", "1.dcm")));
    }

    [Fact]
    public async Task A_file_placed_by_hand_is_an_object_with_an_md5_etag()
    {
        var bytes = "dropped by a person"u8.ToArray();
        Directory.CreateDirectory(Path.Combine(_root.Path, "incoming", "drop"));
        await File.WriteAllBytesAsync(Path.Combine(_root.Path, "incoming", "drop", "x.dcm"), bytes);

        var listed = Assert.Single(await _store.ListAsync("incoming").ToListAsync());

        Assert.Equal("drop/x.dcm", listed.Key);
        Assert.Equal(Convert.ToHexStringLower(MD5.HashData(bytes)), listed.ETag);
        Assert.Equal("application/octet-stream", (await _store.StatAsync("incoming", "drop/x.dcm")).ContentType);
    }

    [Fact]
    public async Task A_bucket_mapped_to_its_own_folder_holds_its_objects_there_and_never_lists_the_store_state()
    {
        // Embedded mode: the output bucket is the folder the user named, the store's state lives inside it.
        using var output = new TempFolder();
        var store = new LocalFolderObjectStore(new LocalFolderStorageOptions
        {
            Root = Path.Combine(output.Path, ".pipeline"),
            BucketFolders = new Dictionary<string, string> { ["denoised"] = output.Path },
        });
        await store.EnsureBucketAsync("models");
        await store.PutBytesAsync("models", "m/current.json", [9]);
        await store.PutBytesAsync("denoised", "studies/1/complete.json", [1, 2]);

        Assert.Equal([1, 2], await File.ReadAllBytesAsync(Path.Combine(output.Path, "studies", "1", "complete.json")));
        var listed = await store.ListAsync("denoised").ToListAsync();
        Assert.Equal(["studies/1/complete.json"], listed.Select(o => o.Key));
        Assert.Equal(["m/current.json"], (await store.ListAsync("models").ToListAsync()).Select(o => o.Key));
    }

    [Fact]
    public async Task Folders_given_with_a_trailing_separator_behave_as_without_it()
    {
        // "pipeline run in/study/" as shell completion writes it: objects inside must still be inside their bucket.
        using var input = new TempFolder();
        using var output = new TempFolder();
        await File.WriteAllBytesAsync(Path.Combine(input.Path, "1.dcm"), [7]);
        var store = new LocalFolderObjectStore(new LocalFolderStorageOptions
        {
            Root = Path.Combine(output.Path, ".pipeline") + "/",
            BucketFolders = new Dictionary<string, string> { ["incoming"] = input.Path + "/", ["denoised"] = output.Path + "/" },
        });

        Assert.Equal(["1.dcm"], (await store.ListAsync("incoming").ToListAsync()).Select(o => o.Key));
        Assert.Equal([7], await store.GetBytesAsync("incoming", "1.dcm"));
        await store.PutBytesAsync("denoised", "studies/1/complete.json", [1]);
        Assert.Equal(["studies/1/complete.json"], (await store.ListAsync("denoised").ToListAsync()).Select(o => o.Key));
    }

    [Fact]
    public async Task A_file_replaced_by_hand_reports_its_own_etag_not_the_stale_sidecar()
    {
        await _store.PutBytesAsync("incoming", "k", "old"u8.ToArray());
        await File.WriteAllBytesAsync(Path.Combine(_root.Path, "incoming", "k"), "newer"u8.ToArray());

        Assert.Equal(Convert.ToHexStringLower(MD5.HashData("newer"u8)), (await _store.StatAsync("incoming", "k")).ETag);
    }

    [Fact]
    public async Task Readers_never_see_a_partly_written_object()
    {
        // Every version is 1 MiB of one repeated byte: a torn read would mix values or be short.
        const int size = 1 << 20;
        await _store.PutBytesAsync("incoming", "hot", new byte[size]);
        const int wantedReads = 20;
        var reads = 0;
        using var stop = new CancellationTokenSource();
        var deadline = DateTime.UtcNow.AddSeconds(30);

        // The writer keeps replacing the object until the reader has overlapped it enough times,
        // so the test proves the same thing on a fast idle machine and a slow loaded one.
        var writer = Task.Run(async () =>
        {
            for (byte v = 1; Volatile.Read(ref reads) < wantedReads && DateTime.UtcNow < deadline; v = (byte)(v % 250 + 1))
            {
                await _store.PutBytesAsync("incoming", "hot", Enumerable.Repeat(v, size).ToArray());
            }

            await stop.CancelAsync();
        });

        while (!stop.IsCancellationRequested)
        {
            var bytes = await _store.GetBytesAsync("incoming", "hot");
            Assert.Equal(size, bytes.Length);
            Assert.True(bytes.AsSpan().IndexOfAnyExcept(bytes[0]) < 0, "a read mixed two versions");
            Interlocked.Increment(ref reads);
        }

        await writer;
        Assert.True(reads >= wantedReads, $"only {reads} reads overlapped the writes in 30 s");
    }

    [Fact]
    public async Task A_write_that_fails_midway_leaves_the_previous_version_and_no_debris()
    {
        await _store.PutBytesAsync("incoming", "k", "previous"u8.ToArray());

        await Assert.ThrowsAsync<IOException>(() => _store.PutAsync("incoming", "k", new FailingStream()));

        Assert.Equal("previous"u8.ToArray(), await _store.GetBytesAsync("incoming", "k"));
        Assert.Empty(Directory.GetFiles(Path.Combine(_root.Path, ".tmp")));
        Assert.Equal(["k"], (await _store.ListAsync("incoming").ToListAsync()).Select(o => o.Key));
    }

    [Fact]
    public async Task Escaping_keys_touch_nothing_outside_the_bucket()
    {
        var outside = Path.Combine(_root.Path, "secret");
        await File.WriteAllTextAsync(outside, "keep");

        await Assert.ThrowsAnyAsync<ArgumentException>(() => _store.PutBytesAsync("incoming", "../secret", [0]));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => _store.DeleteAsync("incoming", "../secret"));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => _store.PutBytesAsync("..", "secret", [0]));

        Assert.Equal("keep", await File.ReadAllTextAsync(outside));
    }

    [Fact]
    public async Task Writing_into_a_missing_bucket_is_refused_like_S3()
    {
        var error = await Assert.ThrowsAsync<ObjectNotFoundException>(() => _store.PutBytesAsync("denoised", "k", [0]));

        Assert.Contains("denoised", error.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_root.Path, "denoised")));
    }

    /// <summary>Yields some bytes, then fails like a dropped network connection.</summary>
    private sealed class FailingStream : Stream
    {
        private int _reads;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) =>
            _reads++ == 0 ? count : throw new IOException("connection reset");

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
