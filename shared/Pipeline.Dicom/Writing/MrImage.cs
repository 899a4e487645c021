namespace Pipeline.Dicom;

/// <summary>Where a slice sits in the patient coordinate system (Image Plane module, PS3.3 C.7.6.2).</summary>
public sealed record ImagePlane
{
    /// <summary>x, y, z (mm) of the centre of the first transmitted pixel.</summary>
    public required double[] PositionPatient { get; init; }
    /// <summary>Row direction cosines then column direction cosines (6 values).</summary>
    public required double[] OrientationPatient { get; init; }
    /// <summary>Row spacing (between rows, i.e. along a column) then column spacing, in mm.</summary>
    public required double[] PixelSpacing { get; init; }
    public double? SliceThickness { get; init; }
    public double? SpacingBetweenSlices { get; init; }
}

/// <summary>Everything needed to create one MR Image Storage instance from scratch.</summary>
public sealed record MrImageSpec
{
    public string PatientName { get; init; } = "";
    public string PatientId { get; init; } = "";
    public string PatientBirthDate { get; init; } = "";
    public string PatientSex { get; init; } = "";
    public required string StudyInstanceUid { get; init; }
    public string StudyDate { get; init; } = "";
    public string StudyTime { get; init; } = "";
    public string StudyId { get; init; } = "";
    public string AccessionNumber { get; init; } = "";
    public string StudyDescription { get; init; } = "";
    public required string SeriesInstanceUid { get; init; }
    public int SeriesNumber { get; init; } = 1;
    public string SeriesDescription { get; init; } = "";
    public required string SopInstanceUid { get; init; }
    public int InstanceNumber { get; init; } = 1;
    public required string FrameOfReferenceUid { get; init; }
    public string Manufacturer { get; init; } = "Pipeline";
    public string PatientPosition { get; init; } = "HFS";
    /// <summary>
    /// ORIGINAL\PRIMARY for acquired-like data, DERIVED\SECONDARY for synthesised data; MR images need a
    /// third value (PS3.3 C.8.3.1.1.1), so two values get OTHER appended.
    /// </summary>
    public string[] ImageType { get; init; } = ["DERIVED", "SECONDARY", "OTHER"];
    public string ScanningSequence { get; init; } = "RM";
    public string SequenceVariant { get; init; } = "NONE";
    public string MrAcquisitionType { get; init; } = "3D";
    public double? RepetitionTime { get; init; }
    public double? EchoTime { get; init; }
    public required ImagePlane Plane { get; init; }
    public required int Rows { get; init; }
    public required int Columns { get; init; }
    /// <summary>Bits Stored (MR images always allocate 16 bits).</summary>
    public int BitsStored { get; init; } = 16;
    public bool IsSigned { get; init; }
    /// <summary>Stored = (value - intercept) / slope; slope 1, intercept 0 writes no rescale attributes.</summary>
    public double RescaleSlope { get; init; } = 1;
    public double RescaleIntercept { get; init; }
}

/// <summary>Creates valid MR Image Storage instances (PS3.3 A.4) from values, e.g. for a NIfTI volume.</summary>
public static class MrImage
{
    public const string SopClassUid = "1.2.840.10008.5.1.4.1.1.4";

    /// <summary>
    /// One slice: <paramref name="pixels"/> are Rows x Columns values, row by row, in modality units.
    /// Save the result with <see cref="DicomFile.Save(string, TransferSyntax?)"/>.
    /// </summary>
    public static DicomFile Create(MrImageSpec spec, float[] pixels)
    {
        var ds = new Dataset();
        ds.SetString(DicomTags.SpecificCharacterSet, "ISO_IR 192");
        ds.SetStrings(DicomTags.ImageType, spec.ImageType.Length == 2 ? [.. spec.ImageType, "OTHER"] : spec.ImageType);
        ds.SetString(DicomTags.SOPClassUID, SopClassUid);
        ds.SetString(DicomTags.SOPInstanceUID, spec.SopInstanceUid);
        ds.SetString(DicomTags.StudyDate, spec.StudyDate);
        ds.SetString(DicomTags.StudyTime, spec.StudyTime);
        ds.SetString(DicomTags.AccessionNumber, spec.AccessionNumber);
        ds.SetString(DicomTags.Modality, "MR");
        ds.SetString(DicomTags.Manufacturer, spec.Manufacturer);
        ds.SetString(DicomTags.ReferringPhysicianName, "");
        if (spec.StudyDescription.Length > 0) ds.SetString(DicomTags.StudyDescription, spec.StudyDescription);
        if (spec.SeriesDescription.Length > 0) ds.SetString(DicomTags.SeriesDescription, spec.SeriesDescription);
        ds.SetString(DicomTags.PatientName, spec.PatientName);
        ds.SetString(DicomTags.PatientID, spec.PatientId);
        ds.SetString(DicomTags.PatientBirthDate, spec.PatientBirthDate);
        ds.SetString(DicomTags.PatientSex, spec.PatientSex);
        ds.SetString(DicomTags.ScanningSequence, spec.ScanningSequence);
        ds.SetString(DicomTags.SequenceVariant, spec.SequenceVariant);
        ds.SetString(DicomTags.ScanOptions, "");
        ds.SetString(DicomTags.MRAcquisitionType, spec.MrAcquisitionType);
        SetOptional(ds, DicomTags.SliceThickness, spec.Plane.SliceThickness);
        SetOptional(ds, DicomTags.RepetitionTime, spec.RepetitionTime);
        SetOptional(ds, DicomTags.EchoTime, spec.EchoTime);
        ds.SetString(DicomTags.EchoTrainLength, "");
        if (spec.Plane.SpacingBetweenSlices is { } spacing) ds.SetNumber(DicomTags.SpacingBetweenSlices, spacing);
        ds.SetString(DicomTags.PatientPosition, spec.PatientPosition);
        ds.SetString(DicomTags.Laterality, "");
        ds.SetString(DicomTags.StudyInstanceUID, spec.StudyInstanceUid);
        ds.SetString(DicomTags.SeriesInstanceUID, spec.SeriesInstanceUid);
        ds.SetString(DicomTags.StudyID, spec.StudyId);
        ds.SetNumber(DicomTags.SeriesNumber, spec.SeriesNumber);
        ds.SetNumber(DicomTags.InstanceNumber, spec.InstanceNumber);
        ds.SetNumbers(DicomTags.ImagePositionPatient, spec.Plane.PositionPatient);
        ds.SetNumbers(DicomTags.ImageOrientationPatient, spec.Plane.OrientationPatient);
        ds.SetString(DicomTags.FrameOfReferenceUID, spec.FrameOfReferenceUid);
        ds.SetString(DicomTags.PositionReferenceIndicator, "");
        ds.SetNumbers(DicomTags.PixelSpacing, spec.Plane.PixelSpacing);
        bool rescaled = spec.RescaleSlope != 1 || spec.RescaleIntercept != 0;
        if (rescaled)
        {
            ds.SetNumber(DicomTags.RescaleIntercept, spec.RescaleIntercept);
            ds.SetNumber(DicomTags.RescaleSlope, spec.RescaleSlope);
            ds.SetString(DicomTags.RescaleType, "US");
        }
        var description = new PixelDescription
        {
            Rows = spec.Rows, Columns = spec.Columns, BitsAllocated = 16, BitsStored = spec.BitsStored,
            HighBit = spec.BitsStored - 1, IsSigned = spec.IsSigned,
            RescaleSlope = spec.RescaleSlope, RescaleIntercept = spec.RescaleIntercept,
        };
        description.Validate();
        var encoded = PixelEncoder.Encode([pixels], description);
        PixelEncoder.Apply(ds, description, encoded);
        DerivedInstance.SetWindowFromRange(ds, description, encoded);
        return new DicomFile(ds);
    }

    private static void SetOptional(Dataset ds, DicomTag tag, double? value)
    {
        if (value is { } v) ds.SetNumber(tag, v);
        else ds.SetString(tag, "");
    }
}
