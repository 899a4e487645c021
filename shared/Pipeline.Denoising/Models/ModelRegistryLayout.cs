namespace Pipeline.Denoising.Models;

/// <summary>
/// Object keys of the model registry in the "models" bucket (see README):
/// {name}/versions/{version}/{manifest.json|weights.safetensors|model.onnx} and the pointer
/// {name}/current.json naming the promoted version. Versions are immutable once written.
/// </summary>
public static class ModelRegistryLayout
{
    public const string CurrentPointer = "current.json";

    public static string VersionPrefix(string name, string version) => $"{Segment(name)}/versions/{Segment(version)}/";

    public static string FileKey(string name, string version, string file) => VersionPrefix(name, version) + Segment(file);

    public static string CurrentKey(string name) => $"{Segment(name)}/{CurrentPointer}";

    /// <summary>A sortable, unique version id: UTC time of training end plus the ONNX hash prefix.</summary>
    public static string NewVersion(DateTimeOffset finishedAt, string onnxSha256) =>
        $"{finishedAt.UtcDateTime:yyyyMMdd'T'HHmmss'Z'}-{onnxSha256[..8]}";

    private static string Segment(string s) =>
        string.IsNullOrWhiteSpace(s) || s.Contains('/') || s is "." or ".."
            ? throw new ArgumentException($"'{s}' is not a valid registry key segment.")
            : s;
}

/// <summary>Content of {name}/current.json: the promoted version and its manifest hash.</summary>
public sealed record CurrentModelPointer(string Version, string ManifestSha256, DateTimeOffset PromotedAt);
