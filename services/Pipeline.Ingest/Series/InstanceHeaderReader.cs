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
    public static InstanceHeader Read(ObjectRef obj, Stream content)
    {
        var file = DicomFile.ReadHeader(content);
        var ds = file.Dataset;
        var study = Required(ds, DicomTags.StudyInstanceUID, "Study Instance UID");
        var series = Required(ds, DicomTags.SeriesInstanceUID, "Series Instance UID");
        var sop = Required(ds, DicomTags.SOPInstanceUID, "SOP Instance UID");
        int? number = ds.TryGetInt(DicomTags.InstanceNumber, out var n) ? n : null;
        return new InstanceHeader(obj, study, series, sop, ds.GetString(DicomTags.Modality) ?? "OT", number, SliceOrder.PositionOf(ds), PixelDescription.NotDenoisableReasonOf(file));
    }

    private static string Required(Dataset ds, DicomTag tag, string name)
    {
        var value = ds.GetString(tag);
        return string.IsNullOrWhiteSpace(value)
            ? throw new DicomException($"missing {name} {tag}: cannot group the instance into a series")
            : value;
    }
}
