using System.ComponentModel.DataAnnotations;

namespace Pipeline.Storage.Local;

/// <summary>Where the embedded-mode store keeps its buckets.</summary>
public sealed record LocalFolderStorageOptions
{
    /// <summary>Root folder; each bucket is a subfolder of it. Created when missing.</summary>
    [Required]
    public string Root { get; init; } = "";
}
