using System.Security.Cryptography;
using System.Text;
using Pipeline.Imaging;
using Pipeline.Imaging.Dicom;
using Pipeline.Imaging.Nifti;

namespace Pipeline.Cli.Commands.Model;

/// <summary>The data a model verb reads: a NIfTI volume file, or a folder holding one DICOM series (ordered by position).</summary>
internal static class VolumeSource
{
    public static Volume Read(string path)
    {
        if (Directory.Exists(path))
            return SeriesInstance.ToVolume(SeriesInstance.ReadSeries(path));
        if (!File.Exists(path))
            throw new FileNotFoundException($"no NIfTI file or DICOM folder at '{path}'");
        return NiftiReader.Read(path).Volume;
    }

    /// <summary>
    /// SHA-256 of the data for a model's lineage: of the file, or for a folder (the files <see cref="Read"/> reads: its
    /// own, not subfolders') of the lines "file name, SHA-256 of the file" in ordinal order (renaming or changing any
    /// file changes it).
    /// </summary>
    public static string Sha256(string path)
    {
        if (!Directory.Exists(path))
            return Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path)));
        var lines = new StringBuilder();
        foreach (var file in Directory.EnumerateFiles(path).Order(StringComparer.Ordinal))
            lines.Append(Path.GetFileName(file)).Append(' ').Append(Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(file)))).Append('\n');
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(lines.ToString())));
    }
}
