namespace Pipeline.Storage;

/// <summary>The object (or the bucket that should hold it) does not exist.</summary>
public sealed class ObjectNotFoundException(string bucket, string key, Exception? innerException = null)
    : Exception($"Object '{key}' not found in bucket '{bucket}'.", innerException)
{
    /// <summary>Bucket that was asked.</summary>
    public string Bucket { get; } = bucket;

    /// <summary>Key that was asked.</summary>
    public string Key { get; } = key;
}

/// <summary>The bucket does not exist (raised by listings; reads raise <see cref="ObjectNotFoundException"/>).</summary>
public sealed class BucketNotFoundException(string bucket, Exception? innerException = null)
    : Exception($"Bucket '{bucket}' not found.", innerException)
{
    /// <summary>Bucket that was asked.</summary>
    public string Bucket { get; } = bucket;
}
