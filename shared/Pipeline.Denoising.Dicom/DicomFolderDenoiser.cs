using Pipeline.Dicom;
using Pipeline.Imaging.Dicom;

namespace Pipeline.Denoising.Dicom;

/// <summary>A file that could not be denoised, and why.</summary>
public sealed record FileFailure(string Path, string Reason);

/// <summary>What became of a folder: how many derived instances were written, and every file that failed.</summary>
public sealed record FolderOutcome(int Written, IReadOnlyList<FileFailure> Failures);

/// <summary>
/// Denoises a folder of DICOM files (read recursively, in ordinal path order), series by series in slice order, into
/// derived series under OUT/{derived series UID}/{derived SOP instance UID}.dcm. A file that cannot be parsed, decoded
/// or derived fails alone with its reason; the rest go on.
/// </summary>
public sealed class DicomFolderDenoiser(DicomSeriesDenoiser series)
{
    /// <param name="input">Folder of DICOM files (other files fail with their reason).</param>
    /// <param name="output">Folder the derived series are written under.</param>
    /// <param name="seriesDone">Receives each source series' UID and instance count once its derived instances are written.</param>
    public FolderOutcome Denoise(string input, string output, Action<string, int>? seriesDone = null)
    {
        var failures = new List<FileFailure>();
        var instances = new List<(SeriesInstance Instance, DicomFile File)>();
        foreach (var path in Directory.EnumerateFiles(input, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            try
            {
                var file = DicomFile.Open(path);
                instances.Add((SeriesInstance.From(file, path), file));
            }
            catch (Exception e) when (e is DicomException or NotSupportedException or InvalidDataException or IOException)
            {
                failures.Add(new FileFailure(path, e.Message));
            }
        }

        var written = 0;
        foreach (var group in instances.GroupBy(i => i.Instance.SeriesInstanceUid))
        {
            var files = new Dictionary<SeriesInstance, DicomFile>(ReferenceEqualityComparer.Instance);
            foreach (var (instance, file) in group) files[instance] = file;
            var ordered = SeriesInstance.Order(files.Keys);
            var outcomes = series.Denoise([.. ordered.Select(i => files[i])]);
            for (var k = 0; k < ordered.Count; k++)
            {
                if (outcomes[k] is { Derived: { } derived })
                {
                    var folder = Path.Combine(output, derived.Dataset.GetRequiredString(DicomTags.SeriesInstanceUID));
                    Directory.CreateDirectory(folder);
                    derived.Save(Path.Combine(folder, derived.Dataset.GetRequiredString(DicomTags.SOPInstanceUID) + ".dcm"));
                    written++;
                }
                else if (outcomes[k] is { FailureReason: { } reason })
                {
                    failures.Add(new FileFailure(ordered[k].Path, reason));
                }
            }
            seriesDone?.Invoke(group.Key, ordered.Count);
        }
        return new FolderOutcome(written, failures);
    }
}
