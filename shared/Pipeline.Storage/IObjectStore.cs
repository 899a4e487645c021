namespace Pipeline.Storage;

/// <summary>The object store every service reads and writes: S3/MinIO when distributed, a local folder when embedded.</summary>
/// <remarks>
/// Keys are '/'-separated relative paths (see <see cref="ObjectNames"/>). Every method behaves the
/// same on both implementations; the contract tests run against each.
/// </remarks>
public interface IObjectStore
{
    /// <summary>Creates the bucket unless it already exists.</summary>
    Task EnsureBucketAsync(string bucket, CancellationToken cancellationToken = default);

    /// <summary>Writes (or replaces) an object. Readers see either the old or the new object, never a part.</summary>
    Task PutAsync(string bucket, string key, Stream content, ObjectWriteOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>Opens an object for reading, whole or a byte range. Dispose the stream.</summary>
    /// <exception cref="ObjectNotFoundException">The bucket or the object does not exist.</exception>
    Task<Stream> OpenReadAsync(string bucket, string key, ByteRange? range = null, CancellationToken cancellationToken = default);

    /// <summary>Size, ETag, content type and user metadata of an object, or null when it does not exist.</summary>
    Task<ObjectInfo?> TryStatAsync(string bucket, string key, CancellationToken cancellationToken = default);

    /// <summary>All objects whose key starts with <paramref name="prefix"/>, in key order, across any number of pages.</summary>
    /// <exception cref="BucketNotFoundException">The bucket does not exist.</exception>
    IAsyncEnumerable<ListedObject> ListAsync(string bucket, string prefix = "", CancellationToken cancellationToken = default);

    /// <summary>Deletes an object; deleting one that does not exist is not an error (as in S3).</summary>
    Task DeleteAsync(string bucket, string key, CancellationToken cancellationToken = default);

    /// <summary>Copies an object with its content type and user metadata.</summary>
    /// <exception cref="ObjectNotFoundException">The source does not exist.</exception>
    Task CopyAsync(string sourceBucket, string sourceKey, string destinationBucket, string destinationKey, CancellationToken cancellationToken = default);
}

/// <summary>What to store beside an object's bytes.</summary>
/// <param name="ContentType">MIME type; "application/octet-stream" when null.</param>
/// <param name="Metadata">User metadata: keys lower-case letters, digits and '-'; values printable ASCII.</param>
public sealed record ObjectWriteOptions(string? ContentType = null, IReadOnlyDictionary<string, string>? Metadata = null);

/// <summary>A contiguous byte range of an object: <paramref name="Length"/> bytes from <paramref name="Offset"/>.</summary>
public readonly record struct ByteRange(long Offset, long Length)
{
    /// <summary>Guards against ranges no server would answer sensibly.</summary>
    internal void Validate()
    {
        if (Offset < 0 || Length <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(ByteRange), $"Invalid range offset {Offset}, length {Length}.");
        }
    }
}

/// <summary>An object as a listing reports it (no user metadata: S3 listings do not carry it).</summary>
/// <param name="ETag">Entity tag without quotes; for objects written in one part, the hex MD5 of the bytes.</param>
public sealed record ListedObject(string Key, long Size, string ETag, DateTimeOffset LastModified);

/// <summary>An object's facts as a stat reports them.</summary>
/// <param name="ETag">Entity tag without quotes; for objects written in one part, the hex MD5 of the bytes.</param>
/// <param name="Metadata">User metadata as written (keys lower-case, without any "x-amz-meta-" prefix).</param>
public sealed record ObjectInfo(
    string Bucket,
    string Key,
    long Size,
    string ETag,
    DateTimeOffset LastModified,
    string ContentType,
    IReadOnlyDictionary<string, string> Metadata);
