using SkiaSharp;

namespace Pipeline.Imaging.Pictures;

/// <summary>
/// A PNG montage for a series: one row per shown slice, columns original | denoised | difference
/// (denoised - original, the removed noise), labelled, with the windows printed underneath.
/// </summary>
/// <remarks>
/// Original and denoised share one window (robust 1st-99.5th percentile of the original's non-background pixels)
/// so they compare fairly; the difference is centred on mid-grey with +-4 robust sd of the difference.
/// Layout, in pixels: width = LabelWidth + 3 (panel + Gap) + Gap, height = HeaderHeight + rows (panel + Gap) + FooterHeight,
/// panel = image size times <see cref="Zoom"/>.
/// </remarks>
public static class SeriesMontage
{
    public const int Gap = 8, HeaderHeight = 28, FooterHeight = 24, LabelWidth = 72;

    /// <summary>Panels smaller than this (pixels on the long side) are magnified by an integer factor.</summary>
    public const int MinPanel = 160;

    public static readonly SKColor Background = new(24, 24, 24);
    public static readonly SKColor Text = new(235, 235, 235);

    /// <summary>Integer magnification of a width x height image.</summary>
    public static int Zoom(int width, int height) => Math.Max(1, (int)Math.Ceiling(MinPanel / (double)Math.Max(width, height)));

    /// <summary>
    /// The slices a montage shows: <paramref name="count"/> evenly spaced inner slices, k depth / (count + 1) for
    /// k = 1..count (distinct, in order); by default the two quartiles and the middle one.
    /// </summary>
    public static int[] MidSlices(int depth, int count = 3) =>
        Enumerable.Range(1, Math.Max(0, count)).Select(k => (int)((long)k * depth / (count + 1))).Where(k => k < depth).Distinct().ToArray();

    /// <summary>Renders the montage as PNG bytes.</summary>
    public static byte[] Render(Volume original, Volume denoised, IReadOnlyList<int>? slices = null)
    {
        ArgumentNullException.ThrowIfNull(original);
        ArgumentNullException.ThrowIfNull(denoised);
        if (original.Depth != denoised.Depth || original.Width != denoised.Width || original.Height != denoised.Height)
            throw new ArgumentException("original and denoised series differ in size", nameof(denoised));
        slices ??= MidSlices(original.Depth);
        if (slices.Count == 0 || slices.Any(k => k < 0 || k >= original.Depth))
            throw new ArgumentOutOfRangeException(nameof(slices), "slice indices must lie inside the series");

        int w = original.Width, h = original.Height, zoom = Zoom(w, h), pw = w * zoom, ph = h * zoom;
        var differences = slices.Select(k => Difference(original.Slices[k], denoised.Slices[k])).ToArray();
        var window = DisplayWindow.FromPercentiles(slices.Select(k => original.Slices[k]));
        var diffWindow = DisplayWindow.Symmetric(Math.Max(1e-6, 4 * RobustSd(differences)));

        var width = LabelWidth + 3 * (pw + Gap) + Gap;
        var height = HeaderHeight + slices.Count * (ph + Gap) + FooterHeight;
        using var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque));
        using var canvas = new SKCanvas(bitmap);
        canvas.Clear(Background);

        string[] headers = ["ORIGINAL", "DENOISED", "DIFFERENCE"];
        for (var c = 0; c < 3; c++)
        {
            var x = PanelX(c, pw) + (pw - PixelFont.Measure(headers[c], 2)) / 2;
            PixelFont.Draw(canvas, headers[c], x, 7, 2, Text);
        }
        for (var r = 0; r < slices.Count; r++)
        {
            var y = HeaderHeight + r * (ph + Gap);
            PixelFont.Draw(canvas, "SLICE", Gap, y + 4, 2, Text);
            PixelFont.Draw(canvas, slices[r].ToString(System.Globalization.CultureInfo.InvariantCulture), Gap, y + 24, 2, Text);
            DrawPanel(canvas, original.Slices[slices[r]], window, PanelX(0, pw), y, zoom);
            DrawPanel(canvas, denoised.Slices[slices[r]], window, PanelX(1, pw), y, zoom);
            DrawPanel(canvas, differences[r], diffWindow, PanelX(2, pw), y, zoom);
        }
        var footer = FormattableString.Invariant($"WINDOW {window.Low:0.##} TO {window.High:0.##}   DIFFERENCE +-{diffWindow.High:0.##}");
        PixelFont.Draw(canvas, footer, Gap, height - FooterHeight + 6, 2, Text);
        return Png.Encode(bitmap);
    }

    /// <summary>Left edge of column <paramref name="column"/>.</summary>
    public static int PanelX(int column, int panelWidth) => LabelWidth + Gap + column * (panelWidth + Gap);

    private static void DrawPanel(SKCanvas canvas, Image image, DisplayWindow window, int x, int y, int zoom)
    {
        using var grey = new SKBitmap(new SKImageInfo(image.Width, image.Height, SKColorType.Gray8, SKAlphaType.Opaque));
        var bytes = grey.GetPixelSpan();
        var rowBytes = grey.RowBytes;
        for (var row = 0; row < image.Height; row++)
        {
            var source = image.Row(row);
            var target = bytes.Slice(row * rowBytes, image.Width);
            for (var col = 0; col < source.Length; col++) target[col] = window.Grey(source[col]);
        }
        using var picture = SKImage.FromBitmap(grey);
        canvas.DrawImage(picture, new SKRect(x, y, x + image.Width * zoom, y + image.Height * zoom),
            new SKSamplingOptions(SKFilterMode.Nearest, SKMipmapMode.None));
    }

    private static Image Difference(Image original, Image denoised)
    {
        var result = original.Blank();
        for (var i = 0; i < result.Pixels.Length; i++) result.Pixels[i] = denoised.Pixels[i] - original.Pixels[i];
        return result;
    }

    /// <summary>Median absolute value / 0.6745 over all difference pixels: the sd of the removed noise, robust to edges.</summary>
    private static double RobustSd(Image[] differences)
    {
        var values = differences.SelectMany(d => d.Pixels).Select(MathF.Abs).ToArray();
        return Noise.NoiseEstimator.Median(values) / 0.6744897501960817;
    }
}

/// <summary>PNG encoding shared by the pictures.</summary>
internal static class Png
{
    public static byte[] Encode(SKBitmap bitmap)
    {
        using var image = SKImage.FromBitmap(bitmap);
        using var data = image.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }
}
