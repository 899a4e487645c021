namespace Pipeline.Imaging;

/// <summary>
/// Where a stack of slices sits in patient space (DICOM LPS, mm): voxel (x, y, k) is at
/// <c>Origin + x*ColumnSpacing*RowDirection + y*RowSpacing*ColumnDirection + k*SliceSpacing*SliceDirection</c>.
/// </summary>
/// <remarks>
/// Names follow DICOM: <see cref="RowDirection"/> is the first triplet of Image Orientation (Patient),
/// the direction in which the column index x grows along a row; <see cref="ColumnDirection"/> the second.
/// <see cref="Origin"/> is the Image Position (Patient) of slice 0.
/// </remarks>
public sealed record VolumeGeometry(
    Vector3d Origin,
    Vector3d RowDirection,
    Vector3d ColumnDirection,
    Vector3d SliceDirection,
    double ColumnSpacing,
    double RowSpacing,
    double SliceSpacing)
{
    /// <summary>Axis-aligned 1 mm geometry: the default when nothing is known.</summary>
    public static VolumeGeometry Identity(double columnSpacing = 1, double rowSpacing = 1, double sliceSpacing = 1) =>
        new(new Vector3d(0, 0, 0), new Vector3d(1, 0, 0), new Vector3d(0, 1, 0), new Vector3d(0, 0, 1),
            columnSpacing, rowSpacing, sliceSpacing);

    /// <summary>Image Position (Patient) of slice <paramref name="k"/>.</summary>
    public Vector3d SlicePosition(int k) => Origin + (k * SliceSpacing) * SliceDirection;

    /// <summary>Patient-space position of voxel centre (x, y, k).</summary>
    public Vector3d VoxelPosition(double x, double y, double k) =>
        Origin + (x * ColumnSpacing) * RowDirection + (y * RowSpacing) * ColumnDirection + (k * SliceSpacing) * SliceDirection;

    /// <summary>The slice normal (row direction x column direction), the axis DICOM readers sort slices along.</summary>
    public Vector3d Normal => RowDirection.Cross(ColumnDirection);
}
