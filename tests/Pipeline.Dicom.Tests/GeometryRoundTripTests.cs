using System.Buffers.Binary;

namespace Pipeline.Dicom.Tests;

/// <summary>dcm2niix reconstructs the same volume geometry from a derived series as from its source.</summary>
public sealed class GeometryRoundTripTests
{
    private static (short[] Dims, float[] PixDim, float[] Srow) Convert(string folder, TempDir dir, string name)
    {
        var output = Path.Combine(dir.Path, name + "-nii");
        Directory.CreateDirectory(output);
        ExternalTool.Ok("dcm2niix", "-z", "n", "-b", "n", "-o", output, "-f", name, folder);
        var header = File.ReadAllBytes(Path.Combine(output, name + ".nii"))[..348];
        var dims = Enumerable.Range(0, 8).Select(i => BinaryPrimitives.ReadInt16LittleEndian(header.AsSpan(40 + 2 * i))).ToArray();
        var pixdim = Enumerable.Range(0, 8).Select(i => BinaryPrimitives.ReadSingleLittleEndian(header.AsSpan(76 + 4 * i))).ToArray();
        var srow = Enumerable.Range(0, 12).Select(i => BinaryPrimitives.ReadSingleLittleEndian(header.AsSpan(280 + 4 * i))).ToArray();
        return (dims, pixdim, srow);
    }

    [Fact]
    public void Derived_series_has_the_source_geometry_in_dcm2niix()
    {
        using var dir = new TempDir();
        var sourceDir = Directory.CreateDirectory(Path.Combine(dir.Path, "source")).FullName;
        var derivedDir = Directory.CreateDirectory(Path.Combine(dir.Path, "derived")).FullName;
        for (int i = 1; i <= 5; i++)
        {
            var source = Synthetic.Mr(instance: i);
            source.Save(Path.Combine(sourceDir, $"{i}.dcm"));
            var frame = source.GetPixelData().GetFrame(0).Select(v => v * 0.9f).ToArray();
            DerivedInstance.Create(source.Dataset, [frame], new DerivationOptions { ModelVersion = "m1" })
                .Save(Path.Combine(derivedDir, $"{i}.dcm"));
        }
        var a = Convert(sourceDir, dir, "source");
        var b = Convert(derivedDir, dir, "derived");
        // Hand-derived: 48 columns x 64 rows x 5 slices, 0.9375 mm in plane, 2.5 mm between slices.
        Assert.Equal([3, 48, 64, 5], a.Dims[..4]);
        Assert.Equal(0.9375f, a.PixDim[1]);
        Assert.Equal(2.5f, a.PixDim[3], 3);
        Assert.Equal(a.Dims, b.Dims);
        Assert.Equal(a.PixDim[1..4], b.PixDim[1..4]);
        Assert.Equal(a.Srow, b.Srow);
    }
}
