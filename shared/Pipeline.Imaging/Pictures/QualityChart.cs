using System.Globalization;
using SkiaSharp;

namespace Pipeline.Imaging.Pictures;

/// <summary>PSNR and SSIM measured at one noise level (a fraction of the data range).</summary>
public sealed record QualityPoint(double NoiseLevel, double Psnr, double Ssim);

/// <summary>One line of the chart, e.g. "noisy" or "denoised (model v3)".</summary>
public sealed record QualityCurve(string Name, IReadOnlyList<QualityPoint> Points);

/// <summary>
/// A PNG line chart of quality by noise level: PSNR (dB) on the left panel, SSIM on the right, noise level in % of
/// the data range along x, one coloured line with markers per curve and a legend on top. Size <see cref="Width"/> x
/// <see cref="Height"/>. Non-finite values (PSNR of identical images) are left out of the lines.
/// </summary>
public static class QualityChart
{
    public const int Width = 960, Height = 420;
    private const int Top = 64, Bottom = 56, Left = 64, Right = 24, PanelGap = 72;

    public static readonly SKColor[] Palette =
    [
        new(230, 85, 13), new(49, 130, 189), new(49, 163, 84), new(117, 107, 177), new(214, 39, 40), new(140, 86, 75),
    ];

    public static byte[] Render(IReadOnlyList<QualityCurve> curves, string title = "QUALITY BY NOISE LEVEL")
    {
        ArgumentNullException.ThrowIfNull(curves);
        var points = curves.SelectMany(c => c.Points).ToArray();
        if (points.Length == 0) throw new ArgumentException("nothing to plot", nameof(curves));

        using var bitmap = new SKBitmap(new SKImageInfo(Width, Height, SKColorType.Rgba8888, SKAlphaType.Opaque));
        using var canvas = new SKCanvas(bitmap);
        canvas.Clear(SKColors.White);
        PixelFont.Draw(canvas, title, (Width - PixelFont.Measure(title, 2)) / 2f, 8, 2, SKColors.Black);

        var legendX = (float)Left;
        for (var c = 0; c < curves.Count; c++)
        {
            using var swatch = new SKPaint { Color = Palette[c % Palette.Length], Style = SKPaintStyle.Fill };
            canvas.DrawRect(legendX, 30, 14, 10, swatch);
            PixelFont.Draw(canvas, curves[c].Name, legendX + 20, 32, 1, SKColors.Black);
            legendX += 40 + PixelFont.Measure(curves[c].Name, 1);
        }

        var xs = Axis(points.Select(p => 100 * p.NoiseLevel), step: null);
        var panelWidth = (Width - Left - Right - PanelGap) / 2;
        var psnr = points.Select(p => p.Psnr).Where(double.IsFinite).DefaultIfEmpty(0).ToArray();
        var ssim = points.Select(p => p.Ssim).Where(double.IsFinite).DefaultIfEmpty(0).ToArray();
        DrawPanel(canvas, curves, Left, panelWidth, xs, Axis(psnr, step: 5), p => p.Psnr, "PSNR (DB)");
        DrawPanel(canvas, curves, Left + panelWidth + PanelGap, panelWidth, xs, Axis(ssim.Append(1.0), step: 0.1), p => p.Ssim, "SSIM");
        return Png.Encode(bitmap);
    }

    private sealed record AxisRange(double Min, double Max, double Step);

    /// <summary>A range padded out to whole steps (5 dB, 0.1 SSIM, or a 1-2-5 step for x).</summary>
    private static AxisRange Axis(IEnumerable<double> values, double? step)
    {
        var list = values.ToArray();
        double min = list.Min(), max = list.Max();
        if (max - min < 1e-9) { min -= 1; max += 1; }
        var s = step ?? NiceStep((max - min) / 5);
        return new AxisRange(Math.Floor(min / s + 1e-9) * s, Math.Ceiling(max / s - 1e-9) * s, s);
    }

    private static double NiceStep(double raw)
    {
        var magnitude = Math.Pow(10, Math.Floor(Math.Log10(raw)));
        var fraction = raw / magnitude;
        return (fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10) * magnitude;
    }

    private static void DrawPanel(SKCanvas canvas, IReadOnlyList<QualityCurve> curves, int left, int width,
        AxisRange xAxis, AxisRange yAxis, Func<QualityPoint, double> value, string label)
    {
        int top = Top, height = Height - Top - Bottom;
        float X(double v) => left + (float)((v - xAxis.Min) / (xAxis.Max - xAxis.Min) * width);
        float Y(double v) => top + height - (float)((v - yAxis.Min) / (yAxis.Max - yAxis.Min) * height);

        using var grid = new SKPaint { Color = new SKColor(225, 225, 225), StrokeWidth = 1, Style = SKPaintStyle.Stroke };
        using var axis = new SKPaint { Color = SKColors.Black, StrokeWidth = 1, Style = SKPaintStyle.Stroke };
        for (var v = yAxis.Min; v <= yAxis.Max + yAxis.Step / 2; v += yAxis.Step)
        {
            canvas.DrawLine(left, Y(v), left + width, Y(v), grid);
            var text = v.ToString(yAxis.Step < 1 ? "0.0" : "0", CultureInfo.InvariantCulture);
            PixelFont.Draw(canvas, text, left - 8 - PixelFont.Measure(text, 1), Y(v) - 3, 1, SKColors.Black);
        }
        for (var v = xAxis.Min; v <= xAxis.Max + xAxis.Step / 2; v += xAxis.Step)
        {
            canvas.DrawLine(X(v), top, X(v), top + height, grid);
            var text = v.ToString("0.##", CultureInfo.InvariantCulture);
            PixelFont.Draw(canvas, text, X(v) - PixelFont.Measure(text, 1) / 2f, top + height + 8, 1, SKColors.Black);
        }
        canvas.DrawRect(left, top, width, height, axis);
        const string xLabel = "NOISE LEVEL (% OF DATA RANGE)";
        PixelFont.Draw(canvas, xLabel, left + (width - PixelFont.Measure(xLabel, 1)) / 2f, Height - 24, 1, SKColors.Black);
        PixelFont.Draw(canvas, label, left, top - 14, 1, SKColors.Black);

        for (var c = 0; c < curves.Count; c++)
        {
            var color = Palette[c % Palette.Length];
            using var line = new SKPaint { Color = color, StrokeWidth = 2, Style = SKPaintStyle.Stroke, IsAntialias = true };
            using var marker = new SKPaint { Color = color, Style = SKPaintStyle.Fill, IsAntialias = true };
            var points = curves[c].Points.Where(p => double.IsFinite(value(p))).OrderBy(p => p.NoiseLevel).ToArray();
            for (var i = 0; i < points.Length; i++)
            {
                var (px, py) = (X(100 * points[i].NoiseLevel), Y(value(points[i])));
                if (i > 0) canvas.DrawLine(X(100 * points[i - 1].NoiseLevel), Y(value(points[i - 1])), px, py, line);
                canvas.DrawCircle(px, py, 3.5f, marker);
            }
        }
    }
}
