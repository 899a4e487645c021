using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace Pipeline.Imaging.Nifti;

/// <summary>What a NIfTI-1 header says about the volume, besides the voxels.</summary>
/// <param name="DataType">NIfTI datatype code (2 uint8, 4 int16, 8 int32, 16 float32, 64 float64, 256 int8, 512 uint16).</param>
/// <param name="SclSlope">Value scaling slope (0 in the file means none; reported here as 1).</param>
/// <param name="SclInter">Value scaling intercept.</param>
/// <param name="GeometrySource">"sform", "qform" or "pixdim" (no orientation in the file).</param>
/// <param name="Description">The header's descrip field.</param>
public sealed record NiftiHeader(int DataType, double SclSlope, double SclInter, string GeometrySource, string Description);

/// <summary>A NIfTI-1 volume: voxels in scaled units (scl_slope/scl_inter applied) and LPS patient geometry.</summary>
public sealed record NiftiVolume(Volume Volume, NiftiHeader Header);

/// <summary>
/// Reads single-file NIfTI-1 (.nii, and .nii.gz by its gzip magic): 3-D (or the first volume of 4-D) images of
/// uint8, int8, int16, uint16, int32, float32 or float64, either byte order.
/// </summary>
/// <remarks>
/// Geometry: sform if sform_code &gt; 0, else qform if qform_code &gt; 0, else pixdim on identity axes (NIfTI
/// "method 1"). NIfTI world space is RAS; DICOM patient space is LPS, so x and y are negated. Voxel index i
/// becomes the image column (x), j the row (y), k the slice, which keeps the file's memory order.
/// </remarks>
public static class NiftiReader
{
    private const int HeaderSize = 348;

    public static NiftiVolume Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        using var file = File.OpenRead(path);
        return Read(file);
    }

    public static NiftiVolume Read(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var bytes = ReadAll(stream);
        if (bytes.Length >= 2 && bytes[0] == 0x1F && bytes[1] == 0x8B)
        {
            using var gz = new GZipStream(new MemoryStream(bytes), CompressionMode.Decompress);
            bytes = ReadAll(gz);
        }
        return Parse(bytes);
    }

    private static byte[] ReadAll(Stream stream)
    {
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        return buffer.ToArray();
    }

    private static NiftiVolume Parse(byte[] data)
    {
        if (data.Length < HeaderSize) throw new InvalidDataException("not a NIfTI-1 file: shorter than its 348-byte header");
        var h = new HeaderView(data);
        var magic = Encoding.ASCII.GetString(data, 344, 3);
        if (magic == "ni1") throw new InvalidDataException("NIfTI-1 .hdr/.img pairs are not supported; convert to a single .nii");
        if (magic != "n+1") throw new InvalidDataException($"not a NIfTI-1 file (magic '{magic}')");

        var rank = h.Int16(40);
        if (rank < 1 || rank > 7) throw new InvalidDataException($"bad dim[0] {rank}");
        int Dim(int d) => d <= rank ? Math.Max(1, (int)h.Int16(40 + 2 * d)) : 1;
        int nx = Dim(1), ny = Dim(2), nz = Dim(3);
        for (var d = 4; d <= rank; d++)
            if (Dim(d) < 1) throw new InvalidDataException($"bad dim[{d}]");

        var dataType = h.Int16(70);
        var bytesPerVoxel = dataType switch
        {
            2 or 256 => 1,
            4 or 512 => 2,
            8 or 16 => 4,
            64 => 8,
            _ => throw new NotSupportedException($"NIfTI datatype {dataType} is not supported (uint8, int8, int16, uint16, int32, float32, float64 are)"),
        };
        var voxOffset = (long)h.Single(108);
        var slope = h.Single(112);
        var inter = h.Single(116);
        if (slope == 0 || !float.IsFinite(slope)) { slope = 1; inter = float.IsFinite(inter) ? inter : 0; }
        var sliceVoxels = (long)nx * ny;
        var needed = voxOffset + sliceVoxels * nz * bytesPerVoxel;
        if (voxOffset < HeaderSize || needed > data.Length)
            throw new InvalidDataException($"NIfTI voxel data truncated: need {needed} bytes, have {data.Length}");

        var geometry = Geometry(h, out var source);
        var slices = new Image[nz];
        for (var k = 0; k < nz; k++)
        {
            var pixels = new float[sliceVoxels];
            var offset = voxOffset + k * sliceVoxels * bytesPerVoxel;
            var raw = data.AsSpan((int)offset, (int)(sliceVoxels * bytesPerVoxel));
            for (var i = 0; i < pixels.Length; i++)
                pixels[i] = (float)(h.Voxel(raw, i, dataType) * slope + inter);
            slices[k] = new Image(nx, ny, pixels, geometry.ColumnSpacing, geometry.RowSpacing);
        }
        var description = Encoding.ASCII.GetString(data, 148, 80).TrimEnd('\0', ' ');
        return new NiftiVolume(new Volume(slices, geometry), new NiftiHeader(dataType, slope, inter, source, description));
    }

    private static VolumeGeometry Geometry(HeaderView h, out string source)
    {
        double dx = Math.Abs(h.Single(80)), dy = Math.Abs(h.Single(84)), dz = Math.Abs(h.Single(88));
        dx = dx > 0 ? dx : 1; dy = dy > 0 ? dy : 1; dz = dz > 0 ? dz : 1;
        var qformCode = h.Int16(252);
        var sformCode = h.Int16(254);
        Vector3d c0, c1, c2, origin; // RAS columns of the voxel-to-world matrix, and its translation
        if (sformCode > 0)
        {
            source = "sform";
            double S(int row, int col) => h.Single(280 + 16 * row + 4 * col);
            c0 = new Vector3d(S(0, 0), S(1, 0), S(2, 0));
            c1 = new Vector3d(S(0, 1), S(1, 1), S(2, 1));
            c2 = new Vector3d(S(0, 2), S(1, 2), S(2, 2));
            origin = new Vector3d(S(0, 3), S(1, 3), S(2, 3));
        }
        else if (qformCode > 0)
        {
            source = "qform";
            double b = h.Single(256), c = h.Single(260), d = h.Single(264);
            var a = 1 - (b * b + c * c + d * d);
            a = a < 1e-7 ? 0 : Math.Sqrt(a); // as nifti1_io: renormalise when rounding pushed it negative
            var qfac = h.Single(76) < 0 ? -1.0 : 1.0;
            c0 = dx * new Vector3d(a * a + b * b - c * c - d * d, 2 * (b * c + a * d), 2 * (b * d - a * c));
            c1 = dy * new Vector3d(2 * (b * c - a * d), a * a + c * c - b * b - d * d, 2 * (c * d + a * b));
            c2 = (qfac * dz) * new Vector3d(2 * (b * d + a * c), 2 * (c * d - a * b), a * a + d * d - c * c - b * b);
            origin = new Vector3d(h.Single(268), h.Single(272), h.Single(276));
        }
        else
        {
            source = "pixdim";
            c0 = new Vector3d(dx, 0, 0);
            c1 = new Vector3d(0, dy, 0);
            c2 = new Vector3d(0, 0, dz);
            origin = new Vector3d(0, 0, 0);
        }
        static Vector3d Lps(Vector3d ras) => new(-ras.X, -ras.Y, ras.Z);
        return new VolumeGeometry(
            Lps(origin), Lps(c0).Normalized(), Lps(c1).Normalized(), Lps(c2).Normalized(),
            c0.Length, c1.Length, c2.Length);
    }

    /// <summary>Little- or big-endian header fields, decided by sizeof_hdr.</summary>
    private readonly struct HeaderView
    {
        private readonly byte[] _data;
        private readonly bool _bigEndian;

        public HeaderView(byte[] data)
        {
            _data = data;
            var size = BinaryPrimitives.ReadInt32LittleEndian(data);
            if (size == HeaderSize) _bigEndian = false;
            else if (BinaryPrimitives.ReadInt32BigEndian(data) == HeaderSize) _bigEndian = true;
            else throw new InvalidDataException($"not a NIfTI-1 file (sizeof_hdr {size})");
        }

        public short Int16(int offset) => _bigEndian
            ? BinaryPrimitives.ReadInt16BigEndian(_data.AsSpan(offset))
            : BinaryPrimitives.ReadInt16LittleEndian(_data.AsSpan(offset));

        public float Single(int offset) => _bigEndian
            ? BinaryPrimitives.ReadSingleBigEndian(_data.AsSpan(offset))
            : BinaryPrimitives.ReadSingleLittleEndian(_data.AsSpan(offset));

        public double Voxel(ReadOnlySpan<byte> raw, int i, int dataType) => dataType switch
        {
            2 => raw[i],
            256 => (sbyte)raw[i],
            4 => _bigEndian ? BinaryPrimitives.ReadInt16BigEndian(raw[(2 * i)..]) : BinaryPrimitives.ReadInt16LittleEndian(raw[(2 * i)..]),
            512 => _bigEndian ? BinaryPrimitives.ReadUInt16BigEndian(raw[(2 * i)..]) : BinaryPrimitives.ReadUInt16LittleEndian(raw[(2 * i)..]),
            8 => _bigEndian ? BinaryPrimitives.ReadInt32BigEndian(raw[(4 * i)..]) : BinaryPrimitives.ReadInt32LittleEndian(raw[(4 * i)..]),
            16 => _bigEndian ? BinaryPrimitives.ReadSingleBigEndian(raw[(4 * i)..]) : BinaryPrimitives.ReadSingleLittleEndian(raw[(4 * i)..]),
            64 => _bigEndian ? BinaryPrimitives.ReadDoubleBigEndian(raw[(8 * i)..]) : BinaryPrimitives.ReadDoubleLittleEndian(raw[(8 * i)..]),
            _ => throw new NotSupportedException($"NIfTI datatype {dataType}"),
        };
    }
}
