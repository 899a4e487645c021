using System.Globalization;
using System.Text.Json;
using Pipeline.Denoising.Evaluation;
using Pipeline.Denoising.Inference;
using Pipeline.Denoising.Models;
using Pipeline.Imaging.Noise;
using Spectre.Console;

namespace Pipeline.Cli.Commands.Model;

/// <summary>
/// `pipeline model evaluate --protocol generalisation`: <see cref="GeneralisationProtocol"/> with a progress bar, then
/// the model's training volumes and one table per set (model, anchor, margin, target), or JSON with --json.
/// </summary>
internal static class GeneralisationEvaluation
{
    public static int Run(ModelFolder model, IReadOnlyList<NoiseModel> levels, EvaluateCommand.Settings settings)
    {
        var sets = settings.Sets is null
            ? GeneralisationProtocol.StandardSets
            : settings.Sets.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
                .Select(n => GeneralisationProtocol.StandardSets.FirstOrDefault(s => s.Name == n)
                             ?? throw new FormatException($"--sets: no set '{n}' (sets: {string.Join(", ", GeneralisationProtocol.StandardSets.Select(s => s.Name))})"))
                .ToArray();
        var denoiser = ModelEngines.Open(model, new EngineOptions { Engine = settings.Engine, Threads = settings.Threads });
        using var engine = denoiser.Engine;
        var options = new QualityProtocolOptions { Seed = settings.Seed, SliceCount = settings.Slices };
        var started = DateTime.UtcNow;
        GeneralisationReport report;
        if (settings.Json)
            report = GeneralisationProtocol.Run(denoiser, model.Manifest, sets, levels, options);
        else
        {
            AnsiConsole.MarkupLineInterpolated($"model {model.Manifest.Version} ({model.Manifest.Architecture.Name}) on {engine.Name} {engine.Device}");
            report = AnsiConsole.Progress().Start(progress =>
            {
                var task = progress.AddTask("generalisation protocol");
                return GeneralisationProtocol.Run(denoiser, model.Manifest, sets, levels, options, new Progress(step =>
                {
                    task.MaxValue = step.Total;
                    task.Value = step.Done;
                    task.Description = step.Set;
                }));
            });
        }
        var seconds = (DateTime.UtcNow - started).TotalSeconds;
        if (settings.Json)
            WriteJson(report, model.Manifest, settings, seconds);
        else
            WriteTables(report, seconds);
        return 0;
    }

    private static void WriteTables(GeneralisationReport report, double seconds)
    {
        var fineTuned = report.InitialModel is { } init ? $" (fine-tuned from {init.Version}, whose data this manifest does not record)" : "";
        AnsiConsole.MarkupLineInterpolated($"trained on: {string.Join(", ", report.TrainingVolumes.Select(d => Path.GetFileName(d.Source)))}{fineTuned}");
        foreach (var set in report.Figures.GroupBy(f => f.Set))
        {
            var head = set.First();
            var role = head.Role == ScoreRole.Generalisation
                ? "generalisation"
                : $"IN-SUBJECT, not generalisation: trained on {string.Join(", ", head.SeenSources.Select(Path.GetFileName))}";
            var table = new Table().Title($"{set.Key} ({head.Kind}, {head.Slices} slices): {role}")
                .AddColumns("scaling", "noise", "model PSNR / SSIM", "anchor PSNR / SSIM (h/sigma)", "margin dB / SSIM", "target");
            foreach (var f in set)
                table.AddRow(f.Scaling, f.Noise, Invariant($"{f.ModelPsnr:F2} / {f.ModelSsim:F3}"),
                    Invariant($"{f.AnchorPsnr:F2} / {f.AnchorSsim:F3} ({f.AnchorHOverSigma:F1})"), Invariant($"{f.PsnrMargin:+0.00;-0.00} / {f.SsimMargin:+0.000;-0.000}"),
                    f.TargetHolds switch { true => "holds", false => "[red]misses[/]", null => "n/a (in-subject)" });
            AnsiConsole.Write(table);
        }
        var scored = report.Figures.Where(f => f.TargetHolds is not null).ToArray();
        AnsiConsole.MarkupLineInterpolated(
            $"target (PSNR >= anchor + {GeneralisationProtocol.TargetPsnrMargin} dB, SSIM >= anchor's) holds in {scored.Count(f => f.TargetHolds == true)} of {scored.Length} generalisation cases; {seconds:F0} s");
    }

    private static void WriteJson(GeneralisationReport report, ModelManifest manifest, EvaluateCommand.Settings settings, double seconds)
    {
        var document = new
        {
            model = manifest.Version,
            architecture = manifest.Architecture.Name,
            protocol = "generalisation",
            seed = settings.Seed,
            engine = settings.Engine,
            trainedOn = report.TrainingVolumes.Select(d => new { source = d.Source, sha256 = d.Sha256 }),
            initialModel = report.InitialModel?.Version,
            seconds = Math.Round(seconds, 1),
            figures = report.Figures.Select(f => new
            {
                set = f.Set,
                kind = f.Kind,
                role = f.Role == ScoreRole.Generalisation ? "generalisation" : "in-subject",
                seenSources = f.SeenSources,
                scaling = f.Scaling,
                noise = f.Noise,
                level = f.Level,
                slices = f.Slices,
                modelPsnr = Math.Round(f.ModelPsnr, 4),
                modelSsim = Math.Round(f.ModelSsim, 5),
                anchorPsnr = Math.Round(f.AnchorPsnr, 4),
                anchorSsim = Math.Round(f.AnchorSsim, 5),
                anchorHOverSigma = f.AnchorHOverSigma,
                psnrMargin = Math.Round(f.PsnrMargin, 4),
                ssimMargin = Math.Round(f.SsimMargin, 5),
                targetHolds = f.TargetHolds,
            }),
        };
        // Nulls kept: targetHolds is null for in-subject figures, and initialModel for a model trained from scratch.
        Console.WriteLine(JsonSerializer.Serialize(document, new JsonSerializerOptions(JsonSerializerDefaults.Web) { WriteIndented = true }));
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    private sealed class Progress(Action<ProtocolStep> report) : IProgress<ProtocolStep>
    {
        public void Report(ProtocolStep value) => report(value);
    }
}
