using System.Globalization;
using System.Numerics;
using System.Security.Cryptography;
using System.Text;

namespace Pipeline.Dicom;

/// <summary>
/// UIDs under the 2.25 root (PS3.5 B.2: a UUID written as one unsigned decimal integer).
/// Deterministic UIDs come from a name-based UUID (RFC 9562 version 8): the first 16 bytes of
/// SHA-256 over the UTF-8 names joined by U+0000, with version nibble 8 and variant bits 10.
/// </summary>
public static class DicomUid
{
    /// <summary>The same names always give the same UID; different names give different UIDs.</summary>
    public static string FromNames(params string[] names)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(string.Join('\0', names)));
        var uuid = hash.AsSpan(0, 16).ToArray();
        uuid[6] = (byte)((uuid[6] & 0x0F) | 0x80); // version 8
        uuid[8] = (byte)((uuid[8] & 0x3F) | 0x80); // variant 10
        return FromUuidBytes(uuid);
    }

    /// <summary>A random UID (UUID version 4).</summary>
    public static string NewRandom() => FromUuidBytes(Guid.NewGuid().ToByteArray(bigEndian: true));

    private static string FromUuidBytes(byte[] uuidBigEndian) =>
        "2.25." + new BigInteger(uuidBigEndian, isUnsigned: true, isBigEndian: true).ToString(CultureInfo.InvariantCulture);

    /// <summary>UID syntax of PS3.5 9.1: at most 64 chars, numeric components without leading zeros.</summary>
    public static bool IsValid(string uid) => WhyInvalid(uid) is null;

    /// <summary>Which rule of PS3.5 9.1 <paramref name="uid"/> breaks ("has a component with a leading zero"), or null when it is a valid UID.</summary>
    public static string? WhyInvalid(string uid)
    {
        ArgumentNullException.ThrowIfNull(uid);
        if (uid.Length == 0) return "is empty";
        if (uid.Length > 64) return string.Create(CultureInfo.InvariantCulture, $"has {uid.Length} characters (at most 64)");
        if (uid.Any(c => c is not (>= '0' and <= '9') and not '.')) return "has a character other than a digit or '.'";
        foreach (var part in uid.Split('.'))
        {
            if (part.Length == 0) return "has an empty component";
            if (part.Length > 1 && part[0] == '0') return "has a component with a leading zero";
        }
        return null;
    }
}
