using System.ComponentModel;
using System.Globalization;
using System.Text.Json;
using Pipeline.Denoising.Baselines;
using Pipeline.Denoising.Evaluation;
using Pipeline.Denoising.Inference;
using Pipeline.Denoising.Models;
using Pipeline.Denoising.Training.Inference;
using Pipeline.Dicom;
using Pipeline.Imaging;
using Pipeline.Imaging.Dicom;
using Pipeline.Imaging.Nifti;
using Pipeline.Imaging.Pictures;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Pipeline.Cli.Commands.Model;

/// <summary>
/// `pipeline model evaluate`: the quality protocol (<see cref="QualityProtocol"/>) on a clean volume: PSNR and
/// SSIM of the noisy input, of the classical baselines (unbiased NLM, median 3x3) and of the model, per noise level and
/// scaling; a table, or JSON with --json; charts with --chart. `--protocol generalisation`: <see cref="GeneralisationEvaluation"/>.
/// </summary>
internal sealed class EvaluateCommand : Command<EvaluateCommand.Settings>
{
    internal sealed class Settings : CommandSettings
    {
        [CommandOption("--model <DIR>"), Description("Model folder (default: the bundled default model)")]
        public string? Model { get; init; }

        [CommandOption("--data <PATH>"), Description("Clean NIfTI volume or folder of one DICOM series (default: Colin27 ch2better from mricron-data)")]
        public string Data { get; init; } = "/usr/share/mricron/templates/ch2better.nii.gz";

        [CommandOption("--noise <SPEC>"), Description("Noise type and levels (fractions of 4095); default the protocol's " + QualityProtocol.NoiseLevelsSpec)]
        public string Noise { get; init; } = QualityProtocol.NoiseLevelsSpec;

        [CommandOption("--engine <NAME>"), Description("onnxruntime (default) or torchsharp")]
        public string Engine { get; init; } = EngineOptions.OnnxRuntime;

        [CommandOption("--threads <T>")] public int Threads { get; init; }

        [CommandOption("--seed <S>")] public int Seed { get; init; } = 1;

        [CommandOption("--split <PART>"), Description("test (the protocol) or validation (the same measure on the validation slices, for choosing between models)")]
        public string Split { get; init; } = "test";

        [CommandOption("--slices <N>"), Description("Scored slices (the protocol: 12; fewer for a quick look)")]
        public int Slices { get; init; } = 12;

        [CommandOption("--no-baselines"), Description("Score the model only (skips NLM and median)")]
        public bool NoBaselines { get; init; }

        [CommandOption("--protocol <NAME>"), Description("in-subject (default: held-out slices of --data) or generalisation (volumes and pictures the model never trained on, against NLM tuned on the scored slices)")]
        public string Protocol { get; init; } = "in-subject";

        [CommandOption("--sets <NAMES>"), Description("Generalisation sets, comma-separated (default all: ch2,ch2better,ch2bet,skimage)")]
        public string? Sets { get; init; }

        [CommandOption("--json"), Description("Print the figures as JSON")]
        public bool Json { get; init; }

        [CommandOption("--chart <DIR>"), Description("Write quality-<scaling>.png charts (PSNR and SSIM by level) into DIR")]
        public string? Chart { get; init; }
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        NativeAllocator.KeepFreedMemory();
        try
        {
            var levels = QualityProtocol.ParseLevels(settings.Noise);
            var part = settings.Split.ToLowerInvariant() switch
            {
                "test" => SplitPart.Test,
                "validation" => SplitPart.Validation,
                _ => throw new FormatException($"--split '{settings.Split}' is not 'test' or 'validation'"),
            };
            var model = ModelFolder.Load(settings.Model ?? DenoisingModel.DefaultFolder);
            if (settings.Protocol.Equals("generalisation", StringComparison.OrdinalIgnoreCase))
                return GeneralisationEvaluation.Run(model, levels, settings);
            if (!settings.Protocol.Equals("in-subject", StringComparison.OrdinalIgnoreCase))
                throw new FormatException($"--protocol '{settings.Protocol}' is not 'in-subject' or 'generalisation'");
            HeldOutData.Refuse(settings.Data);
            var volume = VolumeSource.Read(settings.Data);
            var denoiser = ModelEngines.Open(model, new EngineOptions { Engine = settings.Engine, Threads = settings.Threads });
            using var engine = denoiser.Engine;
            var methods = new List<ISeriesDenoiser>();
            if (!settings.NoBaselines)
                methods.AddRange([new UnbiasedNonLocalMeans(), new MedianDenoiser()]);
            methods.Add(denoiser);
            var options = new QualityProtocolOptions { Seed = settings.Seed, SliceCount = settings.Slices, Part = part };
            if (!settings.Json)
                AnsiConsole.MarkupLineInterpolated(
                    $"model {model.Manifest.Version} ({model.Manifest.Architecture.Name}) on {engine.Name} {engine.Device}; data {settings.Data} ({volume.Width}x{volume.Height}x{volume.Depth})");

            var started = DateTime.UtcNow;
            var report = QualityEvaluation.Run(volume, levels, methods, options,
                settings.Json ? null : new Progress(s => AnsiConsole.MarkupLineInterpolated($"[grey]{s}[/]")));
            var seconds = (DateTime.UtcNow - started).TotalSeconds;

            if (settings.Json)
                WriteJson(report, model.Manifest, settings, seconds);
            else
                WriteTables(report, seconds);
            if (settings.Chart is { } folder)
                WriteCharts(report, folder);
            return 0;
        }
        catch (Exception e) when (e is IOException or InvalidDataException or DicomException or FormatException or ArgumentException
                                       or ModelIntegrityException or NotSupportedException)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return 1;
        }
    }

    private static void WriteTables(QualityReport report, double seconds)
    {
        AnsiConsole.MarkupLineInterpolated($"slices {string.Join(",", report.Slices)} (head 99.5th percentile {report.HeadPeak:G6}), {seconds:F0} s");
        var methods = report.Figures.Select(f => f.Method).Distinct().ToArray();
        foreach (var scaling in report.Figures.Select(f => f.Scaling).Distinct())
        {
            var table = new Table().Title($"{scaling}: PSNR dB / SSIM (data range 4095)").AddColumn("noise");
            foreach (var m in methods)
                table.AddColumn(m);
            foreach (var noise in report.Figures.Where(f => f.Scaling == scaling).Select(f => f.Noise).Distinct())
            {
                var row = report.Figures.Where(f => f.Scaling == scaling && f.Noise == noise).ToDictionary(f => f.Method);
                table.AddRow([noise, .. methods.Select(m => string.Create(CultureInfo.InvariantCulture, $"{row[m].Psnr:F2} / {row[m].Ssim:F3}"))]);
            }
            AnsiConsole.Write(table);
        }
    }

    private static void WriteJson(QualityReport report, ModelManifest manifest, Settings settings, double seconds)
    {
        using var stdout = Console.OpenStandardOutput();
        using (var json = new Utf8JsonWriter(stdout, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteString("model", manifest.Version);
            json.WriteString("architecture", manifest.Architecture.Name);
            json.WriteString("data", settings.Data);
            json.WriteNumber("seed", settings.Seed);
            json.WriteString("split", settings.Split.ToLowerInvariant());
            json.WriteString("engine", settings.Engine);
            json.WriteStartArray("slices");
            foreach (var k in report.Slices)
                json.WriteNumberValue(k);
            json.WriteEndArray();
            json.WriteNumber("headPeak", report.HeadPeak);
            json.WriteNumber("seconds", Math.Round(seconds, 1));
            json.WriteStartArray("figures");
            foreach (var f in report.Figures)
            {
                json.WriteStartObject();
                json.WriteString("method", f.Method);
                json.WriteString("scaling", f.Scaling);
                json.WriteString("noise", f.Noise);
                json.WriteNumber("level", f.Level);
                json.WriteNumber("psnr", Math.Round(f.Psnr, 4));
                json.WriteNumber("ssim", Math.Round(f.Ssim, 5));
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteEndObject();
        }
        stdout.Write("\n"u8);
    }

    private static void WriteCharts(QualityReport report, string folder)
    {
        Directory.CreateDirectory(folder);
        foreach (var scaling in report.Figures.Select(f => f.Scaling).Distinct())
        {
            var curves = report.Figures.Where(f => f.Scaling == scaling).GroupBy(f => f.Method)
                .Select(g => new QualityCurve(g.Key, g.Select(f => new QualityPoint(f.Level, f.Psnr, f.Ssim)).ToArray())).ToArray();
            var path = Path.Combine(folder, $"quality-{scaling}.png");
            File.WriteAllBytes(path, QualityChart.Render(curves, $"COLIN27 PROTOCOL, {scaling.ToUpperInvariant()} SCALING"));
            Console.Error.WriteLine($"chart written to {path}");
        }
    }

    private sealed class Progress(Action<string> report) : IProgress<string>
    {
        public void Report(string value) => report(value);
    }
}
