using System.ComponentModel.DataAnnotations;

namespace Pipeline.Storage.S3;

/// <summary>Connection to an S3-compatible server. Credentials come from configuration or environment, never code.</summary>
public sealed record S3StorageOptions
{
    /// <summary>Host and port, e.g. "minio:9000" (no scheme: TLS is <see cref="UseTls"/>).</summary>
    [Required]
    public string Endpoint { get; init; } = "";

    /// <summary>Access key id.</summary>
    [Required]
    public string AccessKey { get; init; } = "";

    /// <summary>Secret key.</summary>
    [Required]
    public string SecretKey { get; init; } = "";

    /// <summary>Region used for request signing; set it so the SDK never has to ask the server.</summary>
    [Required]
    public string Region { get; init; } = "us-east-1";

    /// <summary>HTTPS when true.</summary>
    public bool UseTls { get; init; }

    /// <summary>Printable form without the secret, for logs and error messages.</summary>
    public override string ToString() => $"{(UseTls ? "https" : "http")}://{Endpoint} (region {Region}, key {AccessKey})";
}
