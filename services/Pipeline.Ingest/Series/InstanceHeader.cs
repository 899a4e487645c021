using Pipeline.Contracts;

namespace Pipeline.Ingest.Series;

/// <summary>What ingest needs from one instance's header (read without pixel data); no patient data.</summary>
/// <param name="Object">Where the instance is stored.</param>
/// <param name="StudyInstanceUid">(0020,000D).</param>
/// <param name="SeriesInstanceUid">(0020,000E).</param>
/// <param name="SopInstanceUid">(0008,0018).</param>
/// <param name="Modality">(0008,0060).</param>
/// <param name="InstanceNumber">(0020,0013), when present.</param>
/// <param name="SlicePosition">Image Position (Patient) projected on the slice normal, when the geometry is present.</param>
/// <param name="NotDenoisableReason">Why this instance cannot be denoised (colour, unsupported syntax...), or null.</param>
public sealed record InstanceHeader(
    ObjectRef Object,
    string StudyInstanceUid,
    string SeriesInstanceUid,
    string SopInstanceUid,
    string Modality,
    int? InstanceNumber,
    double? SlicePosition,
    string? NotDenoisableReason = null)
{
    /// <summary>
    /// Position along the slice normal: dot(position, row x column). Sorting by it orders slices
    /// spatially whatever the acquisition order or file names.
    /// </summary>
    public static double? SlicePositionOf(IReadOnlyList<double>? imagePosition, IReadOnlyList<double>? imageOrientation)
    {
        if (imagePosition is not { Count: 3 } p || imageOrientation is not { Count: 6 } o) return null;
        var nx = o[1] * o[5] - o[2] * o[4];
        var ny = o[2] * o[3] - o[0] * o[5];
        var nz = o[0] * o[4] - o[1] * o[3];
        return p[0] * nx + p[1] * ny + p[2] * nz;
    }
}
