using Pipeline.Contracts;
using Pipeline.Dicom;

namespace Pipeline.Ingest.Series;

/// <summary>What ingest needs from one instance's header (read without pixel data); no patient data.</summary>
/// <param name="Object">Where the instance is stored.</param>
/// <param name="StudyInstanceUid">(0020,000D).</param>
/// <param name="SeriesInstanceUid">(0020,000E).</param>
/// <param name="SopInstanceUid">(0008,0018).</param>
/// <param name="Modality">(0008,0060).</param>
/// <param name="InstanceNumber">(0020,0013), when present.</param>
/// <param name="SlicePosition">Image Position (Patient) projected on the slice normal (<see cref="SliceOrder.PositionOf(Dataset)"/>), when the geometry is present.</param>
/// <param name="Pixels">Rows x Columns x Number of Frames (0 without an image).</param>
/// <param name="NotDenoisableReason">Why this instance cannot be denoised (colour, unsupported syntax...), or null.</param>
internal sealed record InstanceHeader(
    ObjectRef Object,
    string StudyInstanceUid,
    string SeriesInstanceUid,
    string SopInstanceUid,
    string Modality,
    int? InstanceNumber,
    double? SlicePosition,
    long Pixels,
    string? NotDenoisableReason = null);
