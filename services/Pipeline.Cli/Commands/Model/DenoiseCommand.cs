using System.ComponentModel;
using System.Globalization;
using System.Runtime.InteropServices;
using Pipeline.Denoising.Dicom;
using Pipeline.Denoising.Inference;
using Pipeline.Denoising.Models;
using Pipeline.Denoising.Training.Inference;
using Pipeline.Imaging;
using Pipeline.Imaging.Metrics;
using Pipeline.Imaging.Nifti;
using Pipeline.Imaging.Noise;
using Pipeline.Registry;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Pipeline.Cli.Commands.Model;

/// <summary>
/// `pipeline model denoise IN OUT`: IN a folder of DICOM files (read recursively, grouped by series,
/// ordered by slice position) -> derived DICOM series under OUT/{series UID}/, no servers, the same
/// derivation as the denoise worker; or IN a NIfTI volume -> raw little-endian float32 (width x height x
/// depth), where --noise adds seeded noise first and PSNR/SSIM against the input are printed.
/// Exit code 2 when some DICOM objects failed (each printed with its reason).
/// </summary>
internal sealed class DenoiseCommand : Command<DenoiseCommand.Settings>
{
    internal sealed class Settings : CommandSettings
    {
        [CommandArgument(0, "<IN>"), Description("Folder of DICOM files, or a NIfTI volume (.nii/.nii.gz)")]
        public string Input { get; init; } = "";

        [CommandArgument(1, "<OUT>"), Description("Output folder (DICOM input) or raw float32 file (NIfTI input)")]
        public string Output { get; init; } = "";

        [CommandOption("--model <DIR>"), Description("Model folder (default: the bundled default model)")]
        public string? Model { get; init; }

        [CommandOption("--engine <NAME>"), Description("onnxruntime (default) or torchsharp")]
        public string Engine { get; init; } = EngineOptions.OnnxRuntime;

        [CommandOption("--threads <T>")] public int Threads { get; init; }

        [CommandOption("--noise <SPEC>"), Description("Add seeded noise first, e.g. rician:0.1 (fraction of --range)")]
        public string? Noise { get; init; }

        [CommandOption("--range <R>"), Description("Data range for noise and metrics (default: the volume maximum)")]
        public double? Range { get; init; }

        [CommandOption("--seed <S>")] public int Seed { get; init; } = 1;
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        NativeAllocator.KeepFreedMemory();
        var model = ModelFolder.Load(settings.Model ?? DenoisingModel.DefaultFolder);
        var options = new EngineOptions { Engine = settings.Engine, Threads = settings.Threads };
        var denoiser = ModelEngines.Open(model, options);
        using var engine = denoiser.Engine;
        AnsiConsole.MarkupLineInterpolated($"model {model.Manifest.Version} ({model.Manifest.Architecture.Name}) on {engine.Name} {engine.Device}");
        if (Directory.Exists(settings.Input))
            return DenoiseFolder(settings.Input, settings.Output, denoiser, model);

        var clean = NiftiReader.Read(settings.Input).Volume;
        var range = settings.Range ?? clean.Range().Max;
        var input = settings.Noise is { } spec ? NoiseModel.Parse(spec).Apply(clean, range, settings.Seed) : clean;
        var started = DateTime.UtcNow;
        var output = denoiser.Denoise(input.Slices);
        var seconds = (DateTime.UtcNow - started).TotalSeconds;
        AnsiConsole.MarkupLineInterpolated($"{output.Count} slices {clean.Width}x{clean.Height} in {seconds:F1} s ({output.Count / seconds:F1} slices/s)");

        using (var file = File.Create(settings.Output))
            foreach (var slice in output)
                file.Write(MemoryMarshal.AsBytes(slice.Pixels.AsSpan()));
        if (settings.Noise is not null)
        {
            static (double, double) Score(IReadOnlyList<Image> a, IReadOnlyList<Image> b, double r) =>
                (a.Zip(b).Average(p => FidelityMetrics.Psnr(p.First, p.Second, r)), a.Zip(b).Average(p => StructuralSimilarity.Mean(p.First, p.Second, r)));
            var (np, ns) = Score(clean.Slices, input.Slices, range);
            var (dp, ds) = Score(clean.Slices, output, range);
            AnsiConsole.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"noisy    PSNR {np:F2} dB  SSIM {ns:F4}\ndenoised PSNR {dp:F2} dB  SSIM {ds:F4}"));
        }
        return 0;
    }

    /// <summary>A folder of DICOM files: series by series, with the worker's own derivation; prints each failure.</summary>
    private static int DenoiseFolder(string input, string output, SeriesDenoiser denoiser, ModelFolder model)
    {
        // The model's own version id if it has one, else its ONNX hash: part of every derived UID.
        var version = new ModelVersionId("local", model.Manifest.VersionOrOnnxHash());
        var derivation = DerivationLabels.For(version.ToString(), version.Name, model.Manifest.Architecture.Name, DerivationLabelOptions.Default);
        var outcome = new DicomFolderDenoiser(new DicomSeriesDenoiser(denoiser, derivation)).Denoise(input, output,
            (series, instances) => AnsiConsole.MarkupLineInterpolated($"series …{series[^Math.Min(12, series.Length)..]}: {instances} instances"));
        foreach (var (path, reason) in outcome.Failures)
            AnsiConsole.MarkupLineInterpolated($"[red]failed[/] {path}: {reason}");
        AnsiConsole.MarkupLineInterpolated($"{outcome.Written} derived instances written under {output}, {outcome.Failures.Count} objects failed");
        return outcome.Failures.Count > 0 ? 2 : 0;
    }
}
