namespace Pipeline.Dicom;

/// <summary>
/// The one rule for the order of a series' slices (ingest's jobs, the CLI, evaluation and metrics alike): by
/// position along the slice normal when every slice has one, then instance number, then key; otherwise by
/// instance number (missing numbers last), then key. The key (object key or path) makes the order total.
/// </summary>
public static class SliceOrder
{
    /// <summary>
    /// Position along the slice normal (mm): dot(Image Position, row x column of Image Orientation), or null without
    /// that geometry. Sorting by it orders slices spatially whatever the acquisition order or file names.
    /// </summary>
    public static double? PositionOf(IReadOnlyList<double>? imagePosition, IReadOnlyList<double>? imageOrientation)
    {
        if (imagePosition is not { Count: 3 } p || imageOrientation is not { Count: 6 } o) return null;
        var nx = o[1] * o[5] - o[2] * o[4];
        var ny = o[2] * o[3] - o[0] * o[5];
        var nz = o[0] * o[4] - o[1] * o[3];
        return p[0] * nx + p[1] * ny + p[2] * nz;
    }

    /// <summary>Position along the slice normal from a dataset's Image Position and Orientation (Patient).</summary>
    public static double? PositionOf(Dataset dataset)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        return PositionOf(dataset.GetDoubles(DicomTags.ImagePositionPatient), dataset.GetDoubles(DicomTags.ImageOrientationPatient));
    }

    /// <summary>Puts <paramref name="slices"/> in slice order; <paramref name="slice"/> says what each one is.</summary>
    public static IReadOnlyList<T> Order<T>(IEnumerable<T> slices, Func<T, (double? Position, int? InstanceNumber, string Key)> slice)
    {
        ArgumentNullException.ThrowIfNull(slices);
        ArgumentNullException.ThrowIfNull(slice);
        var list = slices.Select(s => (Item: s, Slice: slice(s))).ToList();
        var ordered = list.All(s => s.Slice.Position is not null)
            ? list.OrderBy(s => s.Slice.Position).ThenBy(s => s.Slice.InstanceNumber)
            : list.OrderBy(s => s.Slice.InstanceNumber ?? int.MaxValue);
        return [.. ordered.ThenBy(s => s.Slice.Key, StringComparer.Ordinal).Select(s => s.Item)];
    }
}
