using System.Security.Cryptography;
using System.Text;
using Pipeline.Contracts;

namespace Pipeline.Hosting;

/// <summary>
/// A short, stable id of an object for logs and traces. Uploaders often name folders after patients,
/// so keys never go to telemetry; the failure record in the bucket holds the real key.
/// </summary>
public static class ObjectId
{
    /// <summary>First 12 hex digits of SHA-256("bucket/key").</summary>
    public static string Of(ObjectRef obj) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(obj.ToString())))[..12];
}
