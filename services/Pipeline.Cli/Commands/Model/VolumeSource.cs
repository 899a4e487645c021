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
}
