namespace Pipeline.Dicom;

/// <summary>Safety limits for reading untrusted input.</summary>
public sealed record DicomReadOptions
{
    public static readonly DicomReadOptions Default = new();

    /// <summary>Deepest sequence nesting accepted (real data rarely exceeds 5).</summary>
    public int MaxDepth { get; init; } = 64;

    /// <summary>Largest input (after inflation for Deflated syntax) accepted, in bytes.</summary>
    public long MaxBytes { get; init; } = Array.MaxLength;

    /// <summary>
    /// Path of GDCM's <c>gdcmconv</c>, run as <c>gdcmconv --raw</c> to decode pixel data in syntaxes we have
    /// no codec for (JPEG-LS, JPEG 2000). Null (the default): such files fail with "unsupported transfer syntax".
    /// </summary>
    public string? ExternalTranscoderPath { get; init; }

    /// <summary>How long one external transcoder run may take before it is killed and the file fails.</summary>
    public TimeSpan ExternalTranscoderTimeout { get; init; } = TimeSpan.FromSeconds(60);
}
