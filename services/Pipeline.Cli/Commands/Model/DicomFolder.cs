using Pipeline.DenoiseWorker;
using Pipeline.DenoiseWorker.Series;
using Pipeline.Denoising.Inference;
using Pipeline.Denoising.Models;
using Pipeline.Dicom;
using Pipeline.Imaging.Dicom;
using Pipeline.Registry;
using Spectre.Console;

namespace Pipeline.Cli.Commands.Model;

/// <summary>`model denoise` on a folder of DICOM files: series by series, with the worker's own series denoiser.</summary>
internal static class DicomFolder
{
    public static int Denoise(string input, string output, SeriesDenoiser denoiser, ModelFolder model)
    {
        var failures = new List<(string Path, string Reason)>();
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
                failures.Add((path, e.Message));
            }
        }

        // The model's own version id if it has one, else its ONNX hash: part of every derived UID.
        var version = new ModelVersionId("local", model.Manifest.VersionOrOnnxHash());
        var derivation = DerivationLabels.For(version, model.Manifest.Architecture.Name, new DenoiseWorkerOptions());
        var written = 0;
        foreach (var series in instances.GroupBy(i => i.Instance.SeriesInstanceUid))
        {
            var ordered = SeriesInstance.Order(series.Select(s => s.Instance)).ToList();
            var files = ordered.Select(o => series.First(s => ReferenceEquals(s.Instance, o)).File).ToList();
            var outcomes = new DicomSeriesDenoiser(denoiser, derivation).Denoise(files);
            for (var k = 0; k < files.Count; k++)
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
                    failures.Add((ordered[k].Path, reason));
                }
            }
            AnsiConsole.MarkupLineInterpolated($"series …{series.Key[^Math.Min(12, series.Key.Length)..]}: {files.Count} instances");
        }
        foreach (var (path, reason) in failures)
            AnsiConsole.MarkupLineInterpolated($"[red]failed[/] {path}: {reason}");
        AnsiConsole.MarkupLineInterpolated($"{written} derived instances written under {output}, {failures.Count} objects failed");
        return failures.Count > 0 ? 2 : 0;
    }
}
