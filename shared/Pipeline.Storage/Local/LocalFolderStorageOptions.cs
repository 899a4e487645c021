using System.ComponentModel.DataAnnotations;

namespace Pipeline.Storage.Local;

/// <summary>Where the embedded-mode store keeps its buckets.</summary>
public sealed record LocalFolderStorageOptions
{
    /// <summary>Root folder; each bucket is a subfolder of it. Created when missing.</summary>
    [Required]
    public string Root { get; init; } = "";

    /// <summary>
    /// Buckets kept in a folder of their own instead of <c>Root/bucket</c> (embedded mode reads the
    /// input study where it lies and writes the output bucket to the folder the user named).
    /// </summary>
    public IReadOnlyDictionary<string, string> BucketFolders { get; init; } = new Dictionary<string, string>();
}
