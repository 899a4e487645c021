namespace Pipeline.Dicom;

/// <summary>Safety limits for reading untrusted input.</summary>
public sealed record DicomReadOptions
{
    public static readonly DicomReadOptions Default = new();

    /// <summary>Deepest sequence nesting accepted (real data rarely exceeds 5).</summary>
    public int MaxDepth { get; init; } = 64;

    /// <summary>Largest input (after inflation for Deflated syntax) accepted, in bytes.</summary>
    public long MaxBytes { get; init; } = Array.MaxLength;
}
