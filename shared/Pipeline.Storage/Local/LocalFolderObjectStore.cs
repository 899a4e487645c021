using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text.Json;

namespace Pipeline.Storage.Local;

/// <summary>An object store in a folder, for embedded mode: <c>Root/bucket/key</c> holds an object's bytes unchanged.</summary>
/// <remarks>
/// Layout under <see cref="Root"/>:
/// <list type="bullet">
/// <item><c>bucket/key</c>: the bytes, so people and tools can open objects directly.</item>
/// <item><c>.meta/bucket/key.json</c>: content type, ETag and user metadata (bucket names cannot start with '.').</item>
/// <item><c>.tmp/</c>: writes in progress; a finished write is renamed into place (atomic on one file system).</item>
/// </list>
/// Files dropped into a bucket folder by hand are objects too: their ETag is computed from the bytes.
/// </remarks>
public sealed class LocalFolderObjectStore : IObjectStore
{
    private const string DefaultContentType = "application/octet-stream";
    private static readonly JsonSerializerOptions SidecarJson = new(JsonSerializerDefaults.Web);

    private readonly string _tempFolder;
    private readonly string _metaFolder;
    private readonly Dictionary<string, string> _bucketFolders;

    /// <summary>Opens (and creates if needed) the store rooted at <paramref name="options"/>.Root.</summary>
    public LocalFolderObjectStore(LocalFolderStorageOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrWhiteSpace(options.Root, "Storage:Local:Root");
        Root = FullFolderPath(options.Root);
        _tempFolder = Path.Combine(Root, ".tmp");
        _metaFolder = Path.Combine(Root, ".meta");
        Directory.CreateDirectory(_tempFolder);
        _bucketFolders = options.BucketFolders.ToDictionary(b => b.Key, b => FullFolderPath(b.Value), StringComparer.Ordinal);
        foreach (var bucket in _bucketFolders.Keys)
            ObjectNames.ValidateBucket(bucket);
    }

    /// <summary>
    /// Absolute, without a trailing separator ("in/study/", as shell completion writes it, is "in/study"): object paths
    /// are checked against folder + separator.
    /// </summary>
    private static string FullFolderPath(string folder) => Path.TrimEndingDirectorySeparator(Path.GetFullPath(folder));

    /// <summary>Absolute root folder.</summary>
    public string Root { get; }

    /// <inheritdoc/>
    public Task EnsureBucketAsync(string bucket, CancellationToken cancellationToken = default)
    {
        Directory.CreateDirectory(BucketPath(bucket));
        return Task.CompletedTask;
    }

    /// <inheritdoc/>
    public async Task PutAsync(string bucket, string key, Stream content, ObjectWriteOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(content);
        var path = ObjectPath(bucket, key);
        ObjectNames.ValidateMetadata(options?.Metadata);
        RequireBucket(bucket, key);

        var temp = Path.Combine(_tempFolder, Guid.NewGuid().ToString("N"));
        try
        {
            string etag;
            await using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 81920, useAsync: true))
            using (var md5 = IncrementalHash.CreateHash(HashAlgorithmName.MD5))
            {
                var buffer = new byte[81920];
                int read;
                while ((read = await content.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
                {
                    md5.AppendData(buffer, 0, read);
                    await file.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                }

                etag = Convert.ToHexStringLower(md5.GetHashAndReset());
            }

            // The sidecar goes first so a reader that sees the new bytes also sees their metadata.
            var sidecar = new Sidecar(new FileInfo(temp).Length, options?.ContentType ?? DefaultContentType, etag, new Dictionary<string, string>(options?.Metadata ?? new Dictionary<string, string>()));
            await WriteSidecarAsync(bucket, key, sidecar, cancellationToken).ConfigureAwait(false);

            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            // rename(2): readers see the old file or the new one, never a part. No fsync: embedded mode
            // favours speed (~10 ms per object here) over surviving a power cut mid-run.
            File.Move(temp, path, overwrite: true);
        }
        finally
        {
            File.Delete(temp); // no-op after a successful rename
        }
    }

    /// <inheritdoc/>
    public Task<Stream> OpenReadAsync(string bucket, string key, ByteRange? range = null, CancellationToken cancellationToken = default)
    {
        var path = ObjectPath(bucket, key);
        range?.Validate();
        FileStream file;
        try
        {
            // Renames replace the directory entry, so this handle keeps reading the version it opened.
            file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 81920, useAsync: true);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException or UnauthorizedAccessException && !File.Exists(path))
        {
            throw new ObjectNotFoundException(bucket, key, e);
        }

        if (range is not { } r)
        {
            return Task.FromResult<Stream>(file);
        }

        // Like an HTTP Range request: a range past the end is cut at the end of the object.
        file.Position = Math.Min(r.Offset, file.Length);
        var length = Math.Min(r.Length, file.Length - file.Position);
        return Task.FromResult<Stream>(new BoundedReadStream(file, length));
    }

    /// <inheritdoc/>
    public async Task<ObjectInfo?> TryStatAsync(string bucket, string key, CancellationToken cancellationToken = default)
    {
        var file = new FileInfo(ObjectPath(bucket, key));
        if (!file.Exists)
        {
            return null;
        }

        var sidecar = await ReadSidecarAsync(bucket, key, file, cancellationToken).ConfigureAwait(false);
        return new ObjectInfo(bucket, key, file.Length, sidecar.ETag, file.LastWriteTimeUtc, sidecar.ContentType, sidecar.Metadata);
    }

    /// <inheritdoc/>
    public async IAsyncEnumerable<ListedObject> ListAsync(string bucket, string prefix = "", [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ObjectNames.ValidateBucket(bucket);
        ObjectNames.ValidatePrefix(prefix);
        var bucketPath = BucketPath(bucket);
        if (!Directory.Exists(bucketPath))
        {
            throw new BucketNotFoundException(bucket);
        }

        // Only walk the folder the prefix is certain to be in ("a/b/c" -> "a/b").
        var slash = prefix.LastIndexOf('/');
        var start = slash < 0 ? bucketPath : Path.Combine(bucketPath, prefix[..slash]);
        if (!Directory.Exists(start))
        {
            yield break;
        }

        var keys = Directory.EnumerateFiles(start, "*", SearchOption.AllDirectories)
            .Where(file => !IsStoreState(bucketPath, file))
            .Select(file => Path.GetRelativePath(bucketPath, file).Replace(Path.DirectorySeparatorChar, '/'))
            .Where(key => key.StartsWith(prefix, StringComparison.Ordinal))
            .Order(StringComparer.Ordinal) // S3 lists in key order
            .ToList();

        foreach (var key in keys)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var file = new FileInfo(Path.Combine(bucketPath, key));
            if (!file.Exists)
            {
                continue; // deleted while listing
            }

            var sidecar = await ReadSidecarAsync(bucket, key, file, cancellationToken).ConfigureAwait(false);
            yield return new ListedObject(key, file.Length, sidecar.ETag, file.LastWriteTimeUtc);
        }
    }

    /// <inheritdoc/>
    public Task DeleteAsync(string bucket, string key, CancellationToken cancellationToken = default)
    {
        File.Delete(ObjectPath(bucket, key));
        File.Delete(SidecarPath(bucket, key));
        return Task.CompletedTask;
    }

    /// <inheritdoc/>
    public async Task CopyAsync(string sourceBucket, string sourceKey, string destinationBucket, string destinationKey, CancellationToken cancellationToken = default)
    {
        var info = await TryStatAsync(sourceBucket, sourceKey, cancellationToken).ConfigureAwait(false)
            ?? throw new ObjectNotFoundException(sourceBucket, sourceKey);
        await using var source = await OpenReadAsync(sourceBucket, sourceKey, null, cancellationToken).ConfigureAwait(false);
        await PutAsync(destinationBucket, destinationKey, source, new ObjectWriteOptions(info.ContentType, info.Metadata), cancellationToken).ConfigureAwait(false);
    }

    private string BucketPath(string bucket)
    {
        ObjectNames.ValidateBucket(bucket);
        return _bucketFolders.TryGetValue(bucket, out var folder) ? folder : Path.Combine(Root, bucket);
    }

    /// <summary>The store's own files (sidecars, writes in progress, other buckets) when a bucket folder contains the root.</summary>
    private bool IsStoreState(string bucketPath, string file) =>
        file.StartsWith(Root + Path.DirectorySeparatorChar, StringComparison.Ordinal)
        && !bucketPath.StartsWith(Root + Path.DirectorySeparatorChar, StringComparison.Ordinal);

    /// <summary>Full path of an object; refuses any key that would resolve outside its bucket folder.</summary>
    private string ObjectPath(string bucket, string key)
    {
        ObjectNames.ValidateKey(key);
        var bucketPath = BucketPath(bucket);
        var path = Path.GetFullPath(Path.Combine(bucketPath, key));

        // ValidateKey already rejects '..' segments; this second check guards against anything it missed.
        if (!path.StartsWith(bucketPath + Path.DirectorySeparatorChar, StringComparison.Ordinal))
        {
            throw new ArgumentException($"Key '{key}' escapes bucket '{bucket}'.", nameof(key));
        }

        return path;
    }

    private string SidecarPath(string bucket, string key) => Path.Combine(_metaFolder, bucket, key + ".json");

    private void RequireBucket(string bucket, string key)
    {
        if (!Directory.Exists(BucketPath(bucket)))
        {
            throw new ObjectNotFoundException(bucket, key, new BucketNotFoundException(bucket));
        }
    }

    private async Task WriteSidecarAsync(string bucket, string key, Sidecar sidecar, CancellationToken cancellationToken)
    {
        var path = SidecarPath(bucket, key);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temp = Path.Combine(_tempFolder, Guid.NewGuid().ToString("N") + ".json");
        await File.WriteAllBytesAsync(temp, JsonSerializer.SerializeToUtf8Bytes(sidecar, SidecarJson), cancellationToken).ConfigureAwait(false);
        File.Move(temp, path, overwrite: true);
    }

    /// <summary>The object's sidecar, or one derived from the bytes for files placed by hand.</summary>
    /// <remarks>A sidecar whose size differs from the file's belongs to another version of the object
    /// (a file replaced by hand, or a write between its two renames): the bytes then win.</remarks>
    private async Task<Sidecar> ReadSidecarAsync(string bucket, string key, FileInfo file, CancellationToken cancellationToken)
    {
        var path = SidecarPath(bucket, key);
        try
        {
            var bytes = await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false);
            if (JsonSerializer.Deserialize<Sidecar>(bytes, SidecarJson) is { } sidecar && sidecar.Size == file.Length)
            {
                return sidecar;
            }
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            // no sidecar: a file placed by hand
        }

        await using var stream = new FileStream(file.FullName, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 81920, useAsync: true);
        var etag = Convert.ToHexStringLower(await MD5.HashDataAsync(stream, cancellationToken).ConfigureAwait(false));
        return new Sidecar(file.Length, DefaultContentType, etag, new Dictionary<string, string>());
    }

    private sealed record Sidecar(long Size, string ContentType, string ETag, Dictionary<string, string> Metadata);
}
