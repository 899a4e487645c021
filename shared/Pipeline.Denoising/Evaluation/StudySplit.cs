using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Pipeline.Denoising.Evaluation;

/// <summary>
/// Which studies a model may learn from and which are held out to score it: decided per study (never per slice, so no
/// held-out anatomy leaks into training through a neighbouring slice) by a stable hash of the Study Instance UID. The
/// same UID lands on the same side on every run, machine and night, so scores from different nights compare the same
/// data, and a study once held out stays held out (as long as the fraction is not changed).
/// </summary>
public static class StudySplit
{
    public const double DefaultHeldOutFraction = 0.2;

    /// <summary>
    /// Whether <paramref name="studyInstanceUid"/> is held out: the first 8 bytes of SHA-256("pipeline-study-split|" + UID),
    /// read as a fraction of 2^64, below <paramref name="heldOutFraction"/>.
    /// </summary>
    public static bool IsHeldOut(string studyInstanceUid, double heldOutFraction = DefaultHeldOutFraction)
    {
        ArgumentNullException.ThrowIfNull(studyInstanceUid);
        if (heldOutFraction is < 0 or > 1) throw new ArgumentOutOfRangeException(nameof(heldOutFraction), "a fraction is between 0 and 1");
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes("pipeline-study-split|" + studyInstanceUid));
        return BinaryPrimitives.ReadUInt64BigEndian(hash) / 18446744073709551616.0 < heldOutFraction;
    }
}
