using System.Buffers.Binary;
using System.IO.Compression;
using Pipeline.Imaging.Nifti;
using Pipeline.Imaging.Tests.Support;

namespace Pipeline.Imaging.Tests;

public sealed class NiftiReaderTests
{
    [Fact]
    public void Colin27_voxels_and_geometry_match_an_independent_numpy_read()
    {
        // numpy reads the raw bytes itself (gzip + frombuffer at vox_offset); expected geometry comes from its srow.
        const string script = """
import sys, gzip, json, struct, numpy as np
b = gzip.open(sys.argv[1]).read()
nx, ny, nz = struct.unpack('<3h', b[42:48]); off = int(struct.unpack('<f', b[108:112])[0])
v = np.frombuffer(b, dtype=np.uint8, count=nx*ny*nz, offset=off).reshape(nz, ny, nx).astype(np.float64)
srow = struct.unpack('<12f', b[280:328])
print(json.dumps({'dims': [nx, ny, nz], 'sliceSums': v.sum(axis=(1, 2)).tolist(), 'probe': float(v[90, 108, 77]), 'max': float(v.max()), 'srow': srow}))
""";
        var expected = Python.Run(script, TestImages.Colin27);
        var nifti = NiftiReader.Read(TestImages.Colin27);
        var volume = nifti.Volume;
        Assert.Equal([181, 217, 181], new[] { volume.Width, volume.Height, volume.Depth });
        var sums = expected.GetProperty("sliceSums").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        for (var k = 0; k < volume.Depth; k++)
            Assert.Equal(sums[k], volume.Slices[k].Pixels.Sum(v => (double)v));
        Assert.Equal(expected.GetProperty("probe").GetDouble(), volume[77, 108, 90]);
        Assert.Equal(expected.GetProperty("max").GetDouble(), volume.Range().Max);

        // srow: diagonal 1 mm, origin (-90, -125, -71) RAS => (90, 125, -71) LPS, x and y axes flipped.
        Assert.Equal("sform", nifti.Header.GeometrySource);
        var g = volume.Geometry;
        Assert.Equal(new Vector3d(90, 125, -71), g.Origin);
        Assert.Equal(new Vector3d(-1, 0, 0), g.RowDirection);
        Assert.Equal(new Vector3d(0, -1, 0), g.ColumnDirection);
        Assert.Equal(new Vector3d(0, 0, 1), g.SliceDirection);
        Assert.Equal((1.0, 1.0, 1.0), (g.ColumnSpacing, g.RowSpacing, g.SliceSpacing));
    }

    [Fact]
    public void Qform_rotation_and_scaling_are_applied_in_lps()
    {
        // Quaternion (b, c, d) = (0, 0, sin 45deg): 90deg about z, so i runs along +y (RAS) and j along -x.
        // With pixdim (2, 3, 4), qfac -1 (k flips) and offset (10, 20, 30), voxel (i, j, k) sits at RAS
        // (10 - 3j, 20 + 2i, 30 - 4k) => LPS (-10 + 3j, -20 - 2i, 30 - 4k).
        var s = Math.Sqrt(0.5);
        var bytes = Nifti(4, 3, 2, dataType: 4, bitpix: 16, voxels: Enumerable.Range(0, 24).Select(v => (double)v - 5).ToArray(),
            qform: (0, 0, s, 10, 20, 30), qfac: -1, pixdim: (2, 3, 4), slope: 2, inter: 1);
        var nifti = NiftiReader.Read(new MemoryStream(bytes));
        var g = nifti.Volume.Geometry;
        Assert.Equal("qform", nifti.Header.GeometrySource);
        AssertClose(new Vector3d(-10, -20, 30), g.Origin);
        AssertClose(new Vector3d(-10 + 3 * 1, -20 - 2 * 3, 30 - 4 * 1), g.VoxelPosition(3, 1, 1));
        Assert.Equal((2.0, 3.0, 4.0), (Math.Round(g.ColumnSpacing, 6), Math.Round(g.RowSpacing, 6), Math.Round(g.SliceSpacing, 6)));
        // int16 value v stored at index (i + 4j + 12k), scaled by 2v + 1.
        Assert.Equal(2 * (3 + 4 * 2 + 12 * 1 - 5) + 1, nifti.Volume[3, 2, 1]);
    }

    [Theory]
    [InlineData(2, 8, false)]
    [InlineData(512, 16, false)]
    [InlineData(16, 32, true)]
    [InlineData(4, 16, true)]
    public void Datatypes_byte_orders_and_gzip_read(short dataType, short bitpix, bool bigEndian)
    {
        var voxels = Enumerable.Range(0, 2 * 3 * 2).Select(v => (double)(v * 7 % 100)).ToArray();
        var bytes = Nifti(2, 3, 2, dataType, bitpix, voxels, qform: null, qfac: 1, pixdim: (1, 1, 1), slope: 0, inter: 0, bigEndian: bigEndian);
        using var gz = new MemoryStream();
        using (var zip = new GZipStream(gz, CompressionLevel.Fastest, leaveOpen: true)) zip.Write(bytes);
        foreach (var stream in new[] { new MemoryStream(bytes), new MemoryStream(gz.ToArray()) })
        {
            var volume = NiftiReader.Read(stream).Volume;
            Assert.Equal(voxels, volume.Slices.SelectMany(s => s.Pixels).Select(v => (double)v));
            Assert.Equal(new Vector3d(0, 0, 0), volume.Geometry.Origin); // pixdim only: identity axes
        }
    }

    [Fact]
    public void Not_nifti_is_refused_with_a_reason() =>
        Assert.Throws<InvalidDataException>(() => NiftiReader.Read(new MemoryStream(new byte[400])));

    private static void AssertClose(Vector3d expected, Vector3d actual) =>
        Assert.True((expected - actual).Length < 1e-4, $"expected {expected}, got {actual}");

    /// <summary>A hand-built single-file NIfTI-1 (fields at the offsets of nifti1.h).</summary>
    private static byte[] Nifti(int nx, int ny, int nz, short dataType, short bitpix, double[] voxels,
        (double B, double C, double D, double X, double Y, double Z)? qform, double qfac, (double X, double Y, double Z) pixdim,
        float slope, float inter, bool bigEndian = false)
    {
        var bytes = new byte[352 + voxels.Length * bitpix / 8];
        var span = bytes; // array, not Span: the local writers below capture it
        void I32(int o, int v) { if (bigEndian) BinaryPrimitives.WriteInt32BigEndian(span.AsSpan(o), v); else BinaryPrimitives.WriteInt32LittleEndian(span.AsSpan(o), v); }
        void I16(int o, int v) { if (bigEndian) BinaryPrimitives.WriteInt16BigEndian(span.AsSpan(o), (short)v); else BinaryPrimitives.WriteInt16LittleEndian(span.AsSpan(o), (short)v); }
        void F32(int o, double v) { if (bigEndian) BinaryPrimitives.WriteSingleBigEndian(span.AsSpan(o), (float)v); else BinaryPrimitives.WriteSingleLittleEndian(span.AsSpan(o), (float)v); }
        I32(0, 348);
        I16(40, 3); I16(42, nx); I16(44, ny); I16(46, nz); I16(48, 1);
        I16(70, dataType); I16(72, bitpix);
        F32(76, qfac); F32(80, pixdim.X); F32(84, pixdim.Y); F32(88, pixdim.Z);
        F32(108, 352); F32(112, slope); F32(116, inter);
        if (qform is { } q)
        {
            I16(252, 1);
            F32(256, q.B); F32(260, q.C); F32(264, q.D); F32(268, q.X); F32(272, q.Y); F32(276, q.Z);
        }
        "n+1\0"u8.CopyTo(span.AsSpan(344));
        var data = span.AsSpan(352);
        for (var i = 0; i < voxels.Length; i++)
        {
            var v = voxels[i];
            switch (dataType)
            {
                case 2: data[i] = (byte)v; break;
                case 4: if (bigEndian) BinaryPrimitives.WriteInt16BigEndian(data[(2 * i)..], (short)v); else BinaryPrimitives.WriteInt16LittleEndian(data[(2 * i)..], (short)v); break;
                case 512: if (bigEndian) BinaryPrimitives.WriteUInt16BigEndian(data[(2 * i)..], (ushort)v); else BinaryPrimitives.WriteUInt16LittleEndian(data[(2 * i)..], (ushort)v); break;
                case 16: if (bigEndian) BinaryPrimitives.WriteSingleBigEndian(data[(4 * i)..], (float)v); else BinaryPrimitives.WriteSingleLittleEndian(data[(4 * i)..], (float)v); break;
                default: throw new ArgumentOutOfRangeException(nameof(dataType));
            }
        }
        return bytes;
    }
}
