namespace Pipeline.Dicom;

/// <summary>What to say about a derived (denoised) series.</summary>
public sealed record DerivationOptions
{
    /// <summary>Model version: part of every derived UID, so re-runs with the same model give the same UIDs.</summary>
    public required string ModelVersion { get; init; }
    public string SeriesDescriptionSuffix { get; init; } = " DENOISED";
    public string DerivationDescription { get; init; } = "Denoised by convolutional autoencoder";
    /// <summary>Derivation Code (CID 7203); default DCM 113087 "Smoothing".</summary>
    public (string Value, string Scheme, string Meaning) DerivationCode { get; init; } = ("113087", "DCM", "Smoothing");
    /// <summary>Added to the source Series Number.</summary>
    public int SeriesNumberOffset { get; init; } = 1000;
    /// <summary>
    /// What made the pixels, written to Manufacturer, Manufacturer's Model Name and Software Versions
    /// (as IHE AI Results does for algorithm outputs); null keeps the source's equipment attributes.
    /// </summary>
    public (string Manufacturer, string ModelName, string SoftwareVersions)? Equipment { get; init; }
    /// <summary>Image Comments (e.g. a "not for diagnostic use" notice); null keeps the source's.</summary>
    public string? ImageComments { get; init; }
}

/// <summary>
/// Builds a DERIVED\SECONDARY instance from a source instance and new modality values: patient,
/// study, frame of reference and geometry are kept; UIDs are deterministic (see <see cref="DicomUid"/>).
/// </summary>
public static class DerivedInstance
{
    /// <summary>Names hashed into the derived Series Instance UID: ("pipeline-derived-series", source series UID, model version).</summary>
    public static string SeriesUid(string sourceSeriesUid, string modelVersion) =>
        DicomUid.FromNames("pipeline-derived-series", sourceSeriesUid, modelVersion);

    /// <summary>Names hashed into the derived SOP Instance UID: ("pipeline-derived-instance", source SOP instance UID, model version).</summary>
    public static string InstanceUid(string sourceSopInstanceUid, string modelVersion) =>
        DicomUid.FromNames("pipeline-derived-instance", sourceSopInstanceUid, modelVersion);

    /// <summary>
    /// The derived dataset: <paramref name="frames"/> are modality values (same units as
    /// <see cref="PixelData.GetFrame(int)"/> of the source), re-encoded with the source's bits and rescale.
    /// </summary>
    public static DicomFile Create(Dataset source, IReadOnlyList<float[]> frames, DerivationOptions options)
    {
        var d = PixelDescription.FromDataset(source);
        if (d.NotDenoisableReason is { } reason) throw new DicomPixelDataException(reason);
        var sourceSop = source.GetRequiredString(DicomTags.SOPInstanceUID);
        var sourceClass = source.GetRequiredString(DicomTags.SOPClassUID);
        var sourceSeries = source.GetRequiredString(DicomTags.SeriesInstanceUID);

        var ds = source.Clone();
        foreach (var e in ds.ToList())
        {
            // Vendor private data and signatures describe the source pixels, not ours.
            if (e.Tag.IsPrivate || e.Tag.IsGroupLength || e.Tag.Group is 0xFFFA or 0xFFFC or 0x0002) ds.Remove(e.Tag);
        }
        foreach (var tag in RemovedTags) ds.Remove(tag);

        var imageType = source.GetStrings(DicomTags.ImageType);
        ds.SetStrings(DicomTags.ImageType, ["DERIVED", "SECONDARY", .. imageType.Skip(2)]);
        ds.SetString(DicomTags.SeriesInstanceUID, SeriesUid(sourceSeries, options.ModelVersion));
        ds.SetString(DicomTags.SOPInstanceUID, InstanceUid(sourceSop, options.ModelVersion));
        var description = source.GetString(DicomTags.SeriesDescription) ?? "";
        int room = 64 - options.SeriesDescriptionSuffix.Length; // LO holds 64 characters
        ds.SetString(DicomTags.SeriesDescription, (description.Length > room ? description[..room] : description) + options.SeriesDescriptionSuffix);
        if (source.TryGetInt(DicomTags.SeriesNumber, out var seriesNumber))
            ds.SetNumber(DicomTags.SeriesNumber, seriesNumber + options.SeriesNumberOffset);
        ds.SetString(DicomTags.DerivationDescription, options.DerivationDescription);
        if (options.Equipment is var (manufacturer, modelName, softwareVersions))
        {
            ds.SetString(DicomTags.Manufacturer, manufacturer);
            ds.SetString(DicomTags.ManufacturerModelName, modelName);
            ds.SetString(DicomTags.SoftwareVersions, softwareVersions);
        }
        if (options.ImageComments is { } comments)
            ds.SetString(DicomTags.ImageComments, comments);
        var (value, scheme, meaning) = options.DerivationCode;
        ds.SetSequence(DicomTags.DerivationCodeSequence, Dataset.Code(value, scheme, meaning));
        var reference = new Dataset()
            .SetString(DicomTags.ReferencedSOPClassUID, sourceClass)
            .SetString(DicomTags.ReferencedSOPInstanceUID, sourceSop)
            .SetSequence(DicomTags.PurposeOfReferenceCodeSequence, Dataset.Code("121322", "DCM", "Source image for image processing operation"));
        ds.SetSequence(DicomTags.SourceImageSequence, reference);

        var target = d with { Frames = frames.Count };
        var pixels = PixelEncoder.Encode(frames, target);
        PixelEncoder.Apply(ds, target, pixels);
        if (!ds.Contains(DicomTags.WindowCenter) || !ds.Contains(DicomTags.WindowWidth))
            SetWindowFromRange(ds, target, pixels);
        return new DicomFile(ds, TransferSyntax.ExplicitVRLittleEndian);
    }

    /// <summary>Window covering the stored range, in modality units (used when the source had none).</summary>
    internal static void SetWindowFromRange(Dataset ds, PixelDescription d, EncodedPixels pixels)
    {
        double lo = pixels.SmallestStored * d.RescaleSlope + d.RescaleIntercept;
        double hi = pixels.LargestStored * d.RescaleSlope + d.RescaleIntercept;
        if (lo > hi) (lo, hi) = (hi, lo);
        ds.SetNumber(DicomTags.WindowCenter, Math.Round((lo + hi) / 2, 3));
        ds.SetNumber(DicomTags.WindowWidth, Math.Max(1, Math.Round(hi - lo + 1, 3)));
    }

    private static readonly DicomTag[] RemovedTags =
    [
        DicomTags.SmallestPixelValueInSeries, DicomTags.LargestPixelValueInSeries,
        DicomTags.InstanceCreationDate, DicomTags.InstanceCreationTime,
        DicomTags.FloatPixelData, DicomTags.DoubleFloatPixelData,
    ];
}
