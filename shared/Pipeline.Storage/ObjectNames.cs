using System.Text;
using System.Text.RegularExpressions;

namespace Pipeline.Storage;

/// <summary>The names both stores accept, so a key that works embedded also works on S3 and cannot escape a folder.</summary>
public static partial class ObjectNames
{
    /// <summary>S3's rule for bucket names (3-63 lower-case letters, digits, '.', '-'); a leading '.' is impossible,
    /// which keeps the local store's hidden folders out of reach.</summary>
    [GeneratedRegex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")]
    private static partial Regex BucketPattern();

    [GeneratedRegex("^[a-z0-9][a-z0-9-]*$")]
    private static partial Regex MetadataKeyPattern();

    /// <summary>Throws unless <paramref name="bucket"/> is a valid bucket name.</summary>
    public static void ValidateBucket(string bucket)
    {
        ArgumentNullException.ThrowIfNull(bucket);
        if (!BucketPattern().IsMatch(bucket) || bucket.Contains("..", StringComparison.Ordinal))
        {
            throw new ArgumentException($"Invalid bucket name '{bucket}'.", nameof(bucket));
        }
    }

    /// <summary>Throws unless <paramref name="key"/> is a valid key (see <see cref="IsValidKey"/>).</summary>
    public static void ValidateKey(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (!IsValidKey(key))
        {
            throw new ArgumentException($"Invalid object key '{key}': empty, '.' or '..' segment, backslash, control character or over 1024 bytes.", nameof(key));
        }
    }

    /// <summary>Whether <paramref name="key"/> is a relative '/'-path with no empty, '.' or '..' segment, no backslash or
    /// control character, at most 1024 UTF-8 bytes (S3's limit). S3 itself holds keys outside this rule.</summary>
    public static bool IsValidKey(string key) =>
        key is { Length: > 0 } && Encoding.UTF8.GetByteCount(key) <= 1024 && !key.Any(c => char.IsControl(c) || c == '\\')
        && key.Split('/').All(segment => segment is not ("" or "." or ".."));

    /// <summary>A prefix is a key fragment: empty, or a key that may end with '/'.</summary>
    public static void ValidatePrefix(string prefix)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        if (prefix.Length > 0)
        {
            ValidateKey(prefix.EndsWith('/') ? prefix[..^1] : prefix);
        }
    }

    /// <summary>Throws unless every metadata key is lower-case [a-z0-9-] and every value printable ASCII
    /// (they travel as HTTP headers, where anything else is mangled).</summary>
    public static void ValidateMetadata(IReadOnlyDictionary<string, string>? metadata)
    {
        foreach (var (name, value) in metadata ?? new Dictionary<string, string>())
        {
            if (!MetadataKeyPattern().IsMatch(name))
            {
                throw new ArgumentException($"Invalid metadata key '{name}': use lower-case letters, digits and '-'.", nameof(metadata));
            }

            if (value.Any(c => c < 0x20 || c > 0x7E))
            {
                throw new ArgumentException($"Metadata '{name}' must be printable ASCII.", nameof(metadata));
            }
        }
    }
}
