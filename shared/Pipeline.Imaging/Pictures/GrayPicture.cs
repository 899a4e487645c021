using SkiaSharp;

namespace Pipeline.Imaging.Pictures;

/// <summary>Reads an 8-bit grayscale picture file (PNG, JPEG...) as an image of its grey levels 0-255.</summary>
public static class GrayPicture
{
    public static Image Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        using var decoded = SKBitmap.Decode(path) ?? throw new InvalidDataException($"'{path}' is not a picture SkiaSharp can decode");
        // Gray8 keeps a grayscale file's levels as stored; a colour file would be converted by Skia's luminance.
        using var gray = new SKBitmap(new SKImageInfo(decoded.Width, decoded.Height, SKColorType.Gray8, SKAlphaType.Opaque));
        if (!decoded.CopyTo(gray, SKColorType.Gray8))
            throw new InvalidDataException($"'{path}' cannot be read as grayscale");
        var bytes = gray.GetPixelSpan();
        var image = new Image(decoded.Width, decoded.Height);
        for (var y = 0; y < decoded.Height; y++)
            for (var x = 0; x < decoded.Width; x++)
                image.Pixels[y * decoded.Width + x] = bytes[y * gray.RowBytes + x];
        return image;
    }
}
