using Pipeline.Contracts;
using Pipeline.Dicom;

namespace Pipeline.Ingest.Series;

/// <summary>Reads what ingest needs from a DICOM header, without pixel data.</summary>
internal static class InstanceHeaderReader
{
    /// <summary>
    /// Parses the header of <paramref name="obj"/>. Throws a <see cref="DicomException"/> with a
    /// specific reason when the object is not a usable DICOM instance.
    /// </summary>
    public static InstanceHeader Read(ObjectRef obj, Stream content, DicomReadOptions? limits = null)
    {
        var file = DicomFile.ReadHeader(content, limits);
        var ds = file.Dataset;
        var study = RequiredUid(ds, DicomTags.StudyInstanceUID, "Study Instance UID");
        var series = RequiredUid(ds, DicomTags.SeriesInstanceUID, "Series Instance UID");
        var sop = RequiredUid(ds, DicomTags.SOPInstanceUID, "SOP Instance UID");
        int? number = ds.TryGetInt(DicomTags.InstanceNumber, out var n) ? n : null;
        return new InstanceHeader(obj, study, series, sop, ds.GetString(DicomTags.Modality) ?? "OT", number, SliceOrder.PositionOf(ds),
            PixelsOf(ds), PixelDescription.NotDenoisableReasonOf(file));
    }

    /// <summary>Rows x Columns x Number of Frames (absent: 1); the header reader has already refused values past the limits.</summary>
    private static long PixelsOf(Dataset ds) =>
        ds.TryGetInt(DicomTags.Rows, out var rows) && ds.TryGetInt(DicomTags.Columns, out var columns)
            ? (long)Math.Max(rows, 0) * Math.Max(columns, 0) * (ds.TryGetInt(DicomTags.NumberOfFrames, out var frames) ? Math.Max(frames, 1) : 1)
            : 0;

    /// <summary>
    /// The UID, which must be valid (PS3.5 9.1): it names the series a job covers and the output keys, so anything
    /// else ('..', '/', control characters, very long values) is refused here rather than reaching a key.
    /// </summary>
    private static string RequiredUid(Dataset ds, DicomTag tag, string name)
    {
        var value = ds.GetString(tag) ?? throw new DicomException($"missing {name} {tag}: cannot group the instance into a series");
        return DicomUid.WhyInvalid(value) is { } why
            ? throw new DicomException($"{name} is not a valid UID: {Shown(value)} {why} (PS3.5 9.1)")
            : value;
    }

    /// <summary>An untrusted value as a reason may quote it: cut short, anything but printable ASCII escaped.</summary>
    private static string Shown(string value)
    {
        const int MaxShown = 80;
        var text = string.Concat(value.Take(MaxShown).Select(c => c is >= ' ' and <= '~' ? c.ToString() : $"\\u{(int)c:x4}"));
        return $"\"{text}{(value.Length > MaxShown ? "..." : "")}\"";
    }
}
