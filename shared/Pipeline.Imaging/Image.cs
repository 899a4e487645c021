namespace Pipeline.Imaging;

/// <summary>A single-channel float image (one slice), row-major, with its physical pixel spacing in mm.</summary>
/// <remarks>
/// Pixel (x, y) is <c>Pixels[y * Width + x]</c>: x runs along a row (DICOM column index), y down the
/// columns (DICOM row index). Values are in physical units (after any rescale), never normalised.
/// The array is exposed on purpose: loops over 512x512 series must not copy it.
/// </remarks>
public sealed class Image
{
    public Image(int width, int height, float[] pixels, double columnSpacing = 1, double rowSpacing = 1)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        ArgumentNullException.ThrowIfNull(pixels);
        if (pixels.Length != (long)width * height)
            throw new ArgumentException($"expected {width}x{height} = {(long)width * height} pixels, got {pixels.Length}", nameof(pixels));
        if (!(columnSpacing > 0) || !(rowSpacing > 0))
            throw new ArgumentOutOfRangeException(nameof(columnSpacing), "pixel spacing must be positive");
        Width = width;
        Height = height;
        Pixels = pixels;
        ColumnSpacing = columnSpacing;
        RowSpacing = rowSpacing;
    }

    /// <summary>A zero-filled image.</summary>
    public Image(int width, int height, double columnSpacing = 1, double rowSpacing = 1)
        : this(width, height, new float[checked(width * height)], columnSpacing, rowSpacing)
    {
    }

    public int Width { get; }
    public int Height { get; }

    /// <summary>Row-major pixel values.</summary>
    public float[] Pixels { get; }

    /// <summary>Distance in mm between the centres of adjacent columns (along x).</summary>
    public double ColumnSpacing { get; }

    /// <summary>Distance in mm between the centres of adjacent rows (along y).</summary>
    public double RowSpacing { get; }

    public float this[int x, int y]
    {
        get => Pixels[y * Width + x];
        set => Pixels[y * Width + x] = value;
    }

    /// <summary>One row of pixels.</summary>
    public Span<float> Row(int y) => Pixels.AsSpan(y * Width, Width);

    /// <summary>An image of the same size and spacing with new pixel values.</summary>
    public Image With(float[] pixels) => new(Width, Height, pixels, ColumnSpacing, RowSpacing);

    /// <summary>An image of the same size and spacing, zero-filled.</summary>
    public Image Blank() => new(Width, Height, ColumnSpacing, RowSpacing);

    public Image Clone() => With((float[])Pixels.Clone());

    /// <summary>Smallest and largest pixel value (NaN-free input assumed).</summary>
    public (float Min, float Max) Range()
    {
        float min = float.PositiveInfinity, max = float.NegativeInfinity;
        foreach (var v in Pixels)
        {
            if (v < min) min = v;
            if (v > max) max = v;
        }
        return (min, max);
    }

    internal bool SameShape(Image other) => other.Width == Width && other.Height == Height;

    internal void RequireSameShape(Image other, string name)
    {
        if (!SameShape(other))
            throw new ArgumentException($"image sizes differ: {Width}x{Height} vs {other.Width}x{other.Height}", name);
    }
}
