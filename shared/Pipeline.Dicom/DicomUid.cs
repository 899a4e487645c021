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
        "2.25." + new BigInteger(uuidBigEndian, isUnsigned: true, isBigEndian: true).ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>UID syntax of PS3.5 9.1: at most 64 chars, numeric components without leading zeros.</summary>
    public static bool IsValid(string uid)
    {
        if (uid.Length is 0 or > 64) return false;
        foreach (var part in uid.Split('.'))
        {
            if (part.Length == 0 || (part.Length > 1 && part[0] == '0')) return false;
            foreach (var c in part) if (c is < '0' or > '9') return false;
        }
        return true;
    }
}
