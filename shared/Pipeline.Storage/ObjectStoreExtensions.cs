namespace Pipeline.Storage;

/// <summary>Conveniences built on <see cref="IObjectStore"/>'s primitives, identical for every store.</summary>
public static class ObjectStoreExtensions
{
    /// <summary>Writes an object from bytes.</summary>
    public static async Task PutBytesAsync(this IObjectStore store, string bucket, string key, byte[] bytes, ObjectWriteOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        using var stream = new MemoryStream(bytes, writable: false);
        await store.PutAsync(bucket, key, stream, options, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Reads a whole object (or a range) into memory.</summary>
    /// <exception cref="ObjectNotFoundException">The bucket or the object does not exist.</exception>
    public static async Task<byte[]> GetBytesAsync(this IObjectStore store, string bucket, string key, ByteRange? range = null, CancellationToken cancellationToken = default)
    {
        await using var stream = await store.OpenReadAsync(bucket, key, range, cancellationToken).ConfigureAwait(false);
        using var buffer = new MemoryStream();
        await stream.CopyToAsync(buffer, cancellationToken).ConfigureAwait(false);
        return buffer.ToArray();
    }

    /// <summary>
    /// Reads a whole object into memory unless it holds more than <paramref name="maxBytes"/>: then null, and reading
    /// stopped at the limit (nothing larger is ever buffered, and no separate size request is needed).
    /// </summary>
    /// <exception cref="ObjectNotFoundException">The bucket or the object does not exist.</exception>
    public static async Task<byte[]?> GetBytesUpToAsync(this IObjectStore store, string bucket, string key, long maxBytes, CancellationToken cancellationToken = default)
    {
        await using var stream = await store.OpenReadAsync(bucket, key, null, cancellationToken).ConfigureAwait(false);
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = await stream.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
        {
            if (buffer.Length + read > maxBytes) return null;
            buffer.Write(chunk, 0, read);
        }
        return buffer.ToArray();
    }

    /// <summary>Stat that treats a missing object as an error.</summary>
    /// <exception cref="ObjectNotFoundException">The bucket or the object does not exist.</exception>
    public static async Task<ObjectInfo> StatAsync(this IObjectStore store, string bucket, string key, CancellationToken cancellationToken = default) =>
        await store.TryStatAsync(bucket, key, cancellationToken).ConfigureAwait(false)
        ?? throw new ObjectNotFoundException(bucket, key);

    /// <summary>True when the object exists.</summary>
    public static async Task<bool> ExistsAsync(this IObjectStore store, string bucket, string key, CancellationToken cancellationToken = default) =>
        await store.TryStatAsync(bucket, key, cancellationToken).ConfigureAwait(false) is not null;
}
