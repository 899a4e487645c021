using Pipeline.Dicom;

namespace Pipeline.Imaging.Dicom;

/// <summary>One instance of a series on disk, with what is needed to order and match it.</summary>
/// <param name="Path">Where it came from: a file path, or "bucket/key" of an object.</param>
/// <param name="Image">Frame 0 in modality units.</param>
/// <param name="Description">Pixel module (bits, signedness, rescale).</param>
/// <param name="SeriesInstanceUid">Series it belongs to.</param>
/// <param name="InstanceNumber">Instance Number, or null.</param>
/// <param name="Position">Image Position (Patient), or null.</param>
/// <param name="Orientation">Image Orientation (Patient) row then column cosines, or null.</param>
public sealed record SeriesInstance(
    string Path, Image Image, PixelDescription Description, string SeriesInstanceUid, int? InstanceNumber,
    Vector3d? Position, (Vector3d Row, Vector3d Column)? Orientation)
{
    /// <summary>Position along the slice normal (mm, <see cref="SliceOrder.PositionOf(IReadOnlyList{double}, IReadOnlyList{double})"/>), or null without geometry.</summary>
    public double? SlicePosition =>
        Position is { } p && Orientation is { } o
            ? SliceOrder.PositionOf([p.X, p.Y, p.Z], [o.Row.X, o.Row.Y, o.Row.Z, o.Column.X, o.Column.Y, o.Column.Z])
            : null;

    /// <summary>Reads one file (frame 0).</summary>
    public static SeriesInstance Read(string path) => From(DicomFile.Open(path), path);

    /// <summary>An instance already parsed (e.g. from an object's bytes); <paramref name="path"/> names where it came from.</summary>
    public static SeriesInstance From(DicomFile file, string path)
    {
        ArgumentNullException.ThrowIfNull(file);
        var ds = file.Dataset;
        var image = DicomImages.ToImage(file);
        var position = ds.GetDoubles(DicomTags.ImagePositionPatient);
        var orientation = ds.GetDoubles(DicomTags.ImageOrientationPatient);
        return new SeriesInstance(
            path, image, file.GetPixelData().Description,
            ds.GetString(DicomTags.SeriesInstanceUID) ?? "",
            ds.TryGetInt(DicomTags.InstanceNumber, out var number) ? number : null,
            position.Length == 3 ? new Vector3d(position[0], position[1], position[2]) : null,
            orientation.Length == 6
                ? (new Vector3d(orientation[0], orientation[1], orientation[2]), new Vector3d(orientation[3], orientation[4], orientation[5]))
                : null);
    }

    /// <summary>
    /// Reads a file, or every file of a folder (non-DICOM files are skipped), as one series in slice order
    /// (<see cref="Order"/>). Throws when the folder holds several series.
    /// </summary>
    public static IReadOnlyList<SeriesInstance> ReadSeries(string fileOrFolder)
    {
        ArgumentNullException.ThrowIfNull(fileOrFolder);
        List<SeriesInstance> instances;
        if (File.Exists(fileOrFolder))
        {
            instances = [Read(fileOrFolder)];
        }
        else if (Directory.Exists(fileOrFolder))
        {
            instances = [];
            foreach (var path in Directory.EnumerateFiles(fileOrFolder).Order(StringComparer.Ordinal))
            {
                try { instances.Add(Read(path)); }
                catch (DicomException) { } // not DICOM (README, .DS_Store ...): not part of the series
            }
            if (instances.Count == 0) throw new InvalidDataException($"no DICOM instances in {fileOrFolder}");
        }
        else
        {
            throw new FileNotFoundException($"no such file or folder: {fileOrFolder}", fileOrFolder);
        }
        var series = instances.Select(i => i.SeriesInstanceUid).Distinct().ToArray();
        if (series.Length > 1) throw new InvalidDataException($"{fileOrFolder} holds {series.Length} series; give one series");
        return Order(instances);
    }

    /// <summary>Orders instances in slice order (<see cref="SliceOrder"/>: position, instance number, path).</summary>
    public static IReadOnlyList<SeriesInstance> Order(IEnumerable<SeriesInstance> instances) =>
        SliceOrder.Order(instances, i => (i.SlicePosition, i.InstanceNumber, i.Path));

    /// <summary>The series as a volume (geometry from the first instance and the spacing of the positions).</summary>
    public static Volume ToVolume(IReadOnlyList<SeriesInstance> ordered)
    {
        ArgumentNullException.ThrowIfNull(ordered);
        if (ordered.Count == 0) throw new ArgumentException("no instances", nameof(ordered));
        var first = ordered[0];
        var image = first.Image;
        VolumeGeometry geometry;
        if (first.Position is { } origin && first.Orientation is { } o)
        {
            var normal = o.Row.Cross(o.Column).Normalized();
            var spacing = ordered.Count > 1 && ordered[^1].SlicePosition is { } last && first.SlicePosition is { } start
                ? (last - start) / (ordered.Count - 1)
                : 1;
            geometry = new VolumeGeometry(origin, o.Row.Normalized(), o.Column.Normalized(),
                spacing < 0 ? -1 * normal : normal, image.ColumnSpacing, image.RowSpacing, Math.Abs(spacing) > 0 ? Math.Abs(spacing) : 1);
        }
        else
        {
            geometry = VolumeGeometry.Identity(image.ColumnSpacing, image.RowSpacing);
        }
        return new Volume([.. ordered.Select(i => i.Image)], geometry);
    }
}
