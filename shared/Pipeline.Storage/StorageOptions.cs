using System.ComponentModel.DataAnnotations;
using Pipeline.Storage.Local;
using Pipeline.Storage.S3;

namespace Pipeline.Storage;

/// <summary>Which object store a service uses: configuration section "Storage".</summary>
public sealed record StorageOptions
{
    public const string Section = "Storage";

    /// <summary>"S3" (distributed) or "Local" (embedded).</summary>
    [Required]
    public StorageKind Kind { get; init; } = StorageKind.Local;

    /// <summary>Settings when <see cref="Kind"/> is S3.</summary>
    public S3StorageOptions? S3 { get; init; }

    /// <summary>Settings when <see cref="Kind"/> is Local.</summary>
    public LocalFolderStorageOptions? Local { get; init; }

    /// <summary>
    /// The pipeline's one output bucket, the same for every service: derived series, completion markers, reports,
    /// montages, reference registrations, model scores and failure records.
    /// </summary>
    [Required]
    public string OutputBucket { get; init; } = "denoised";

    /// <summary>Builds the configured store; throws with the missing section's name when it is absent.</summary>
    public IObjectStore CreateStore() => Kind switch
    {
        StorageKind.S3 => new S3ObjectStore(S3 ?? throw new InvalidOperationException("Storage:S3 settings are missing.")),
        StorageKind.Local => new LocalFolderObjectStore(Local ?? throw new InvalidOperationException("Storage:Local settings are missing.")),
        _ => throw new InvalidOperationException($"Unknown storage kind '{Kind}'."),
    };
}

/// <summary>The two store implementations.</summary>
public enum StorageKind
{
    /// <summary>A folder on disk (embedded mode).</summary>
    Local,

    /// <summary>An S3-compatible server through the Minio SDK (distributed mode).</summary>
    S3,
}
