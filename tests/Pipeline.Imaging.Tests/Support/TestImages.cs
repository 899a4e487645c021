using CsCheck;
using Pipeline.Imaging;
using Pipeline.Imaging.Nifti;

namespace Pipeline.Imaging.Tests.Support;

/// <summary>Images for tests: random ones for properties, and real MRI from Debian's mricron-data.</summary>
internal static class TestImages
{
    public const string Colin27 = "/usr/share/mricron/templates/ch2.nii.gz";
    public const string Colin27HighRes = "/usr/share/mricron/templates/ch2better.nii.gz";

    private static readonly Lazy<Volume> Colin = new(() => NiftiReader.Read(Colin27).Volume);

    /// <summary>Colin27 1 mm (181x217x181, uint8 0-254). Fails when mricron-data is missing: CI installs it.</summary>
    public static Volume Colin27Volume => Colin.Value;

    /// <summary>Random images between 11x11 (the SSIM window) and 48x48 with values in [0, max].</summary>
    public static Gen<Image> Random(float max = 4095) =>
        Gen.Select(Gen.Int[11, 48], Gen.Int[11, 48])
            .SelectMany((w, h) => Gen.Float[0f, max].Array[w * h].Select(p => new Image(w, h, p)));

    /// <summary>Integer-valued random images, like stored DICOM values after a slope-1 rescale.</summary>
    public static Gen<Image> RandomIntegers(int min, int max) =>
        Gen.Select(Gen.Int[1, 40], Gen.Int[1, 40])
            .SelectMany((w, h) => Gen.Int[min, max].Array[w * h].Select(p => new Image(w, h, p.Select(v => (float)v).ToArray())));

    public static Image Flat(int width, int height, float value)
    {
        var pixels = new float[width * height];
        Array.Fill(pixels, value);
        return new Image(width, height, pixels);
    }

    /// <summary>Uniform random image with a fixed seed.</summary>
    public static Image Uniform(int width, int height, float max, int seed)
    {
        var random = new Random(seed);
        var pixels = new float[width * height];
        for (var i = 0; i < pixels.Length; i++) pixels[i] = (float)(random.NextDouble() * max);
        return new Image(width, height, pixels);
    }
}
