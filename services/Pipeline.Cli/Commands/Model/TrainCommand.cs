using System.ComponentModel;
using System.Globalization;
using Pipeline.Denoising.Architectures;
using Pipeline.Denoising.Evaluation;
using Pipeline.Denoising.Models;
using Pipeline.Denoising.Training.Inference;
using Pipeline.Denoising.Training.Training;
using Pipeline.Dicom;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Pipeline.Cli.Commands.Model;

/// <summary>`pipeline model train`: trains on NIfTI volumes split by slice position, shows progress, writes a model folder.</summary>
internal sealed class TrainCommand : Command<TrainCommand.Settings>
{
    internal sealed class Settings : CommandSettings
    {
        [CommandArgument(0, "<DATA>"), Description("Clean NIfTI volume(s) (.nii/.nii.gz) or DICOM series folders, comma-separated")]
        public string Inputs { get; init; } = "";

        [CommandOption("-o|--out <DIR>"), Description("Output model folder")]
        public string Output { get; init; } = "model";

        [CommandOption("--arch <NAME>"), Description("cdae, dncnn or unet")]
        public string Architecture { get; init; } = ArchitectureSpec.Residual;

        [CommandOption("--depth <N>"), Description("dncnn: convolutions (8); unet: levels (4)")]
        public int? Depth { get; init; }
        [CommandOption("--width <N>"), Description("dncnn: channels (32); unet: first level's channels (16)")]
        public int? Width { get; init; }
        [CommandOption("--context <K>"), Description("Neighbour slices each side as extra channels (2.5D)")]
        public int Context { get; init; }
        [CommandOption("--predict-image"), Description("dncnn/unet: predict the clean image instead of the noise")]
        public bool PredictImage { get; init; }
        [CommandOption("--sigmoid"), Description("cdae: sigmoid output (Gondara); default linear")]
        public bool Sigmoid { get; init; }

        [CommandOption("--mode <MODE>"), Description("supervised, noise2void or neighbor2neighbor (the self-supervised modes add synthetic noise to the clean data and never read it clean)")]
        public string Mode { get; init; } = TrainingOptions.Supervised;
        [CommandOption("--noise <TYPES>"), Description("Noise types, comma-separated (rician, gaussian, poisson)")]
        public string Noise { get; init; } = "rician";
        [CommandOption("--levels <MIN-MAX>"), Description("Noise level range, fraction of the data range")]
        public string Levels { get; init; } = "0.02-0.22";

        [CommandOption("--steps <N>")] public int Steps { get; init; } = 2000;
        [CommandOption("--minutes <M>"), Description("Wall-time budget; stops early and keeps the best")]
        public double? Minutes { get; init; }
        [CommandOption("--patch <P>")] public int Patch { get; init; } = 64;
        [CommandOption("--batch <B>")] public int Batch { get; init; } = 16;
        [CommandOption("--lr <LR>")] public double LearningRate { get; init; } = 1e-3;
        [CommandOption("--ssim <W>"), Description("Weight of the (1 - SSIM) loss term")]
        public double SsimWeight { get; init; }
        [CommandOption("--loss-weighting <W>"), Description("uniform, or noise-relative (each patch's error divided by its noise variance)")]
        public string LossWeighting { get; init; } = TrainingOptions.UniformLoss;
        [CommandOption("--clamp-floor"), Description("Score the output clamped at the series' floor, as inference delivers it (lets the network settle air below the floor)")]
        public bool ClampFloor { get; init; }
        [CommandOption("--init <MODEL_DIR>"), Description("Start from this model's verified weights (same architecture); fresh optimiser, schedule and best")]
        public string? Init { get; init; }
        [CommandOption("--foreground-bias <P>"), Description("Probability that a patch is centred on the head rather than anywhere")]
        public double ForegroundBias { get; init; } = 0.9;
        [CommandOption("--validate-every <N>")] public int ValidateEvery { get; init; } = 200;
        [CommandOption("--seed <S>")] public int Seed { get; init; } = 1;
        [CommandOption("--threads <T>"), Description("Validation (ONNX Runtime) threads; 0 = all cores")]
        public int Threads { get; init; }
        [CommandOption("--checkpoint <DIR>"), Description("Checkpoint folder; an existing checkpoint there is resumed")]
        public string? Checkpoint { get; init; }

        [CommandOption("--train-fraction <F>"), Description("Lower fraction of each volume's slices used for training")]
        public double TrainFraction { get; init; } = 0.7;
        [CommandOption("--validation-fraction <F>"), Description("The next fraction, used for validation (the rest is never read)")]
        public double ValidationFraction { get; init; } = 0.1;
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        try
        {
            return Train(context, settings, cancellationToken);
        }
        catch (Exception e) when (e is IOException or InvalidDataException or DicomException or FormatException or ArgumentException
                                       or ModelIntegrityException or NotSupportedException)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return 1;
        }
    }

    private static int Train(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        NativeAllocator.KeepFreedMemory();
        var levels = settings.Levels.Split('-').Select(s => double.Parse(s, CultureInfo.InvariantCulture)).ToArray();
        var spec = ArchitectureSpec.ByName(settings.Architecture, settings.Depth, settings.Width, settings.Context,
            settings.Sigmoid ? OutputActivation.Sigmoid : OutputActivation.Linear, settings.PredictImage);
        var options = new TrainingOptions
        {
            Architecture = spec,
            Mode = settings.Mode,
            NoiseTypes = settings.Noise.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries),
            MinLevel = levels[0],
            MaxLevel = levels[^1],
            Steps = settings.Steps,
            TimeBudget = settings.Minutes is { } m ? TimeSpan.FromMinutes(m) : null,
            PatchSize = settings.Patch,
            BatchSize = settings.Batch,
            LearningRate = settings.LearningRate,
            SsimWeight = settings.SsimWeight,
            LossWeighting = settings.LossWeighting,
            ClampAtFloor = settings.ClampFloor,
            InitialModel = settings.Init,
            ForegroundBias = settings.ForegroundBias,
            ValidateEvery = settings.ValidateEvery,
            Seed = settings.Seed,
            Threads = settings.Threads,
            CheckpointFolder = settings.Checkpoint,
        };

        var volumes = new List<TrainingVolume>();
        foreach (var path in settings.Inputs.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            HeldOutData.Refuse(path);
            var volume = VolumeSource.Read(path);
            volumes.Add(new TrainingVolume(path, DataLineage.Sha256Of(path), volume));
        }
        var data = TrainingDataSet.Split(volumes, settings.TrainFraction, settings.ValidationFraction);
        foreach (var (volume, split) in volumes.Zip(data.Splits))
            AnsiConsole.MarkupLineInterpolated(
                $"{volume.Source}: {volume.Volume.Width}x{volume.Volume.Height}x{volume.Volume.Depth}, train slices 0-{split.TrainLast}, validation {split.ValidationFirst}-{split.ValidationLast}");

        TrainingResult? result = null;
        AnsiConsole.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask("training", maxValue: options.Steps);
                var progress = new Progress(p =>
                {
                    task.Value = p.Step;
                    task.Description = string.Create(CultureInfo.InvariantCulture,
                        $"step {p.Step} loss {p.Loss:E2}{(p.BestValidationPsnr is { } b ? $" best val {b:F2} dB" : "")}");
                });
                result = new Trainer(options, data.Training, data.Validation).Train(progress, cancellationToken);
                task.Value = options.Steps;
            });

        var manifest = ModelWriter.Write(settings.Output, result!, options, data.Lineage,
            "pipeline " + string.Join(' ', context.Arguments));
        var v = manifest.Validation!;
        AnsiConsole.MarkupLineInterpolated($"wrote {settings.Output}: {result!.Steps} steps ({result.Elapsed.TotalMinutes:F1} min), best step {result.BestStep}");
        AnsiConsole.MarkupLineInterpolated($"validation: PSNR {v.Psnr:F2} dB / SSIM {v.Ssim:F4}  (noisy input {v.NoisyPsnr:F2} dB / {v.NoisySsim:F4})");
        var table = new Table().AddColumns("noise", "peak", "noisy PSNR", "noisy SSIM", "model PSNR", "model SSIM");
        foreach (var l in v.Levels)
            table.AddRow(l.Noise, l.Peak.ToString("F2", CultureInfo.InvariantCulture), l.NoisyPsnr.ToString("F2", CultureInfo.InvariantCulture),
                l.NoisySsim.ToString("F4", CultureInfo.InvariantCulture), l.Psnr.ToString("F2", CultureInfo.InvariantCulture), l.Ssim.ToString("F4", CultureInfo.InvariantCulture));
        AnsiConsole.Write(table);
        return 0;
    }

    /// <summary>Synchronous progress: the trainer's thread updates the bar directly.</summary>
    private sealed class Progress(Action<TrainingProgress> report) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => report(value);
    }
}
