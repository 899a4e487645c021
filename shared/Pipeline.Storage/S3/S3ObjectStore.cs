using System.Net;
using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using Minio;
using Minio.DataModel.Args;
using Minio.Exceptions;

namespace Pipeline.Storage.S3;

/// <summary>The object store on an S3-compatible server (MinIO, AWS S3, s3rver in tests) through the Minio SDK.</summary>
/// <remarks>
/// Reads go through a presigned GET and our own HttpClient: Minio 7.0.0's ranged GetObject throws
/// PartialContentException on every server (minio-dotnet #1342), and its whole-object GetObject only
/// lends the body to a callback, where a presigned GET hands back a plain, streaming response.
/// </remarks>
public sealed class S3ObjectStore : IObjectStore, IDisposable
{
    private const string MetadataPrefix = "x-amz-meta-";
    private const int PresignedUrlSeconds = 300;

    private readonly HttpClient _http;
    private readonly IMinioClient _minio;

    /// <summary>Connects (lazily: nothing is sent until the first call) to the server in <paramref name="options"/>.</summary>
    public S3ObjectStore(S3StorageOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrWhiteSpace(options.Endpoint, "Storage:S3:Endpoint");
        ArgumentException.ThrowIfNullOrWhiteSpace(options.AccessKey, "Storage:S3:AccessKey");
        ArgumentException.ThrowIfNullOrWhiteSpace(options.SecretKey, "Storage:S3:SecretKey");
        Options = options;
        _http = new HttpClient { Timeout = Timeout.InfiniteTimeSpan }; // long downloads are bounded by the caller's token
        _minio = new MinioClient()
            .WithEndpoint(options.Endpoint)
            .WithCredentials(options.AccessKey, options.SecretKey)
            .WithRegion(options.Region) // a known region spares a GetBucketLocation round trip per bucket
            .WithSSL(options.UseTls)
            .WithHttpClient(_http)
            .Build();
    }

    /// <summary>The settings this store was built with.</summary>
    public S3StorageOptions Options { get; }

    /// <inheritdoc/>
    public async Task EnsureBucketAsync(string bucket, CancellationToken cancellationToken = default)
    {
        ObjectNames.ValidateBucket(bucket);
        if (await _minio.BucketExistsAsync(new BucketExistsArgs().WithBucket(bucket), cancellationToken).ConfigureAwait(false))
        {
            return;
        }

        try
        {
            await _minio.MakeBucketAsync(new MakeBucketArgs().WithBucket(bucket).WithLocation(Options.Region), cancellationToken).ConfigureAwait(false);
        }
        catch (MinioException e) when (e.Response?.Code is "BucketAlreadyOwnedByYou" or "BucketAlreadyExists")
        {
            // another service created it between our check and our create
        }
    }

    /// <inheritdoc/>
    public async Task PutAsync(string bucket, string key, Stream content, ObjectWriteOptions? options = null, CancellationToken cancellationToken = default)
    {
        ValidateName(bucket, key);
        ArgumentNullException.ThrowIfNull(content);
        ObjectNames.ValidateMetadata(options?.Metadata);

        // The SDK needs the length up front; spool streams that cannot tell it.
        await using var spool = content.CanSeek ? null : await SpoolAsync(content, cancellationToken).ConfigureAwait(false);
        var body = spool ?? content;

        var headers = (options?.Metadata ?? new Dictionary<string, string>())
            .ToDictionary(pair => MetadataPrefix + pair.Key, pair => pair.Value, StringComparer.Ordinal);
        var args = new PutObjectArgs()
            .WithBucket(bucket)
            .WithObject(key)
            .WithStreamData(body)
            .WithObjectSize(body.Length - body.Position)
            .WithContentType(options?.ContentType ?? "application/octet-stream")
            .WithHeaders(headers);
        await Translate(bucket, key, () => _minio.PutObjectAsync(args, cancellationToken)).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public async Task<Stream> OpenReadAsync(string bucket, string key, ByteRange? range = null, CancellationToken cancellationToken = default)
    {
        ValidateName(bucket, key);
        range?.Validate();
        var url = await _minio.PresignedGetObjectAsync(new PresignedGetObjectArgs()
            .WithBucket(bucket)
            .WithObject(key)
            .WithExpiry(PresignedUrlSeconds)).ConfigureAwait(false);

        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        if (range is { } r)
        {
            request.Headers.Range = new RangeHeaderValue(r.Offset, r.Offset + r.Length - 1);
        }

        var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        try
        {
            if (response.StatusCode == HttpStatusCode.NotFound)
            {
                throw new ObjectNotFoundException(bucket, key);
            }

            if (response.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable)
            {
                return new MemoryStream([], writable: false); // range starts past the end: nothing to read
            }

            response.EnsureSuccessStatusCode();
            if (range is not null && response.StatusCode != HttpStatusCode.PartialContent)
            {
                throw new NotSupportedException($"Server ignored the Range header for '{key}' in '{bucket}'.");
            }

            // Disposing the response stream releases the connection; the response itself holds nothing else.
            return await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            response.Dispose();
            throw;
        }
    }

    /// <inheritdoc/>
    public async Task<ObjectInfo?> TryStatAsync(string bucket, string key, CancellationToken cancellationToken = default)
    {
        ValidateName(bucket, key);
        try
        {
            var stat = await _minio.StatObjectAsync(new StatObjectArgs().WithBucket(bucket).WithObject(key), cancellationToken).ConfigureAwait(false);
            return new ObjectInfo(
                bucket,
                key,
                stat.Size,
                TrimQuotes(stat.ETag),
                new DateTimeOffset(DateTime.SpecifyKind(stat.LastModified, DateTimeKind.Utc)),
                stat.ContentType,
                UserMetadata(stat.MetaData));
        }
        catch (Exception e) when (IsNotFound(e))
        {
            return null;
        }
    }

    /// <inheritdoc/>
    public async IAsyncEnumerable<ListedObject> ListAsync(string bucket, string prefix = "", [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ObjectNames.ValidateBucket(bucket);
        ObjectNames.ValidatePrefix(prefix);

        // The SDK follows continuation tokens itself: pages of up to 1000 keys, fetched as we iterate.
        var items = _minio.ListObjectsEnumAsync(
            new ListObjectsArgs().WithBucket(bucket).WithPrefix(prefix).WithRecursive(true),
            cancellationToken);
        await using var page = items.GetAsyncEnumerator(cancellationToken);
        while (true)
        {
            bool more;
            try
            {
                more = await page.MoveNextAsync().ConfigureAwait(false);
            }
            catch (BucketNotFoundException)
            {
                throw;
            }
            catch (Exception e) when (IsNotFound(e))
            {
                throw new BucketNotFoundException(bucket, e);
            }

            if (!more)
            {
                yield break;
            }

            var item = page.Current;
            if (!item.IsDir)
            {
                yield return new ListedObject(item.Key, (long)item.Size, TrimQuotes(item.ETag), new DateTimeOffset(DateTime.SpecifyKind(item.LastModifiedDateTime ?? default, DateTimeKind.Utc)));
            }
        }
    }

    /// <inheritdoc/>
    public Task DeleteAsync(string bucket, string key, CancellationToken cancellationToken = default)
    {
        ValidateName(bucket, key);
        return _minio.RemoveObjectAsync(new RemoveObjectArgs().WithBucket(bucket).WithObject(key), cancellationToken);
    }

    /// <inheritdoc/>
    public Task CopyAsync(string sourceBucket, string sourceKey, string destinationBucket, string destinationKey, CancellationToken cancellationToken = default)
    {
        ValidateName(sourceBucket, sourceKey);
        ValidateName(destinationBucket, destinationKey);
        var args = new CopyObjectArgs()
            .WithBucket(destinationBucket)
            .WithObject(destinationKey)
            .WithCopyObjectSource(new CopySourceObjectArgs().WithBucket(sourceBucket).WithObject(sourceKey));
        return Translate(sourceBucket, sourceKey, () => _minio.CopyObjectAsync(args, cancellationToken));
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        _minio.Dispose();
        _http.Dispose();
    }

    private static void ValidateName(string bucket, string key)
    {
        ObjectNames.ValidateBucket(bucket);
        ObjectNames.ValidateKey(key);
    }

    /// <summary>Turns the SDK's "not found" family into our <see cref="ObjectNotFoundException"/>.</summary>
    private static async Task Translate(string bucket, string key, Func<Task> call)
    {
        try
        {
            await call().ConfigureAwait(false);
        }
        catch (Exception e) when (IsNotFound(e))
        {
            throw new ObjectNotFoundException(bucket, key, e);
        }
    }

    private static bool IsNotFound(Exception e) =>
        e is Minio.Exceptions.ObjectNotFoundException or Minio.Exceptions.BucketNotFoundException
        || (e is MinioException m && m.Response?.Code is "NoSuchKey" or "NoSuchBucket");

    /// <summary>User metadata from a stat. Minio 7.0.0 returns it without the "x-amz-meta-" prefix, mixed with
    /// ordinary headers, so we keep only the names we could have written and that are not standard headers.</summary>
    private static Dictionary<string, string> UserMetadata(IReadOnlyDictionary<string, string> metadata) =>
        metadata
            .Select(pair => (Name: pair.Key.ToLowerInvariant(), pair.Value))
            .Select(pair => pair.Name.StartsWith(MetadataPrefix, StringComparison.Ordinal) ? (Name: pair.Name[MetadataPrefix.Length..], pair.Value) : pair)
            .Where(pair => !StandardHeaders.Contains(pair.Name))
            .ToDictionary(pair => pair.Name, pair => pair.Value, StringComparer.Ordinal);

    private static readonly HashSet<string> StandardHeaders = new(StringComparer.Ordinal)
    {
        "content-type", "content-length", "etag", "last-modified", "date", "server", "accept-ranges",
        "connection", "keep-alive", "vary", "content-encoding", "cache-control", "expires",
    };

    private static string TrimQuotes(string? etag) => (etag ?? "").Trim('"');

    private static async Task<Stream> SpoolAsync(Stream content, CancellationToken cancellationToken)
    {
        var spool = new FileStream(Path.GetTempFileName(), FileMode.Create, FileAccess.ReadWrite, FileShare.None, 81920, FileOptions.DeleteOnClose | FileOptions.Asynchronous);
        await content.CopyToAsync(spool, cancellationToken).ConfigureAwait(false);
        spool.Position = 0;
        return spool;
    }
}
