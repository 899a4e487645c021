using Pipeline.Imaging;

namespace Pipeline.Denoising.Baselines;

/// <summary>3x3 median with edge-repeating mirror borders (scipy.ndimage.median_filter(size=3), mode "reflect").</summary>
public static class MedianFilter
{
    public static Image Median3x3(Image image)
    {
        ArgumentNullException.ThrowIfNull(image);
        var result = image.Blank();
        Span<float> window = stackalloc float[9];
        int width = image.Width, height = image.Height;
        for (var y = 0; y < height; y++)
        {
            for (var x = 0; x < width; x++)
            {
                var n = 0;
                for (var dy = -1; dy <= 1; dy++)
                {
                    var row = image.Row(Mirror(y + dy, height));
                    for (var dx = -1; dx <= 1; dx++)
                        window[n++] = row[Mirror(x + dx, width)];
                }
                window.Sort();
                result.Pixels[y * width + x] = window[4];
            }
        }
        return result;
    }

    /// <summary>scipy "reflect": d c b a | a b c d | d c b a (one step past the edge at most here).</summary>
    private static int Mirror(int i, int size) => i < 0 ? Math.Min(-i - 1, size - 1) : i >= size ? Math.Max(2 * size - i - 1, 0) : i;
}
