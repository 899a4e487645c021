namespace Pipeline.Imaging;

/// <summary>A series of equally sized slices with its patient-space geometry (a 3-D volume stored slice by slice).</summary>
public sealed class Volume
{
    public Volume(IReadOnlyList<Image> slices, VolumeGeometry geometry)
    {
        ArgumentNullException.ThrowIfNull(slices);
        ArgumentNullException.ThrowIfNull(geometry);
        if (slices.Count == 0) throw new ArgumentException("a volume needs at least one slice", nameof(slices));
        for (var k = 1; k < slices.Count; k++)
            slices[0].RequireSameShape(slices[k], nameof(slices));
        Slices = slices;
        Geometry = geometry;
    }

    public IReadOnlyList<Image> Slices { get; }
    public VolumeGeometry Geometry { get; }

    public int Width => Slices[0].Width;
    public int Height => Slices[0].Height;
    public int Depth => Slices.Count;

    public float this[int x, int y, int k] => Slices[k].Pixels[y * Width + x];

    /// <summary>Smallest and largest voxel value over all slices.</summary>
    public (float Min, float Max) Range()
    {
        float min = float.PositiveInfinity, max = float.NegativeInfinity;
        foreach (var slice in Slices)
        {
            var (lo, hi) = slice.Range();
            if (lo < min) min = lo;
            if (hi > max) max = hi;
        }
        return (min, max);
    }

    /// <summary>Slices first .. first + count - 1, with the origin moved to the first of them.</summary>
    public Volume Slab(int first, int count)
    {
        if (first < 0 || count <= 0 || first + count > Depth)
            throw new ArgumentOutOfRangeException(nameof(count), $"slab {first}+{count} is outside 0..{Depth - 1}");
        return new Volume(Slices.Skip(first).Take(count).ToArray(), Geometry with { Origin = Geometry.SlicePosition(first) });
    }

    /// <summary>The same geometry with new slices (e.g. after noise or denoising).</summary>
    public Volume With(IReadOnlyList<Image> slices) => new(slices, Geometry);
}
