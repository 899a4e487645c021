using System.ComponentModel;
using System.Globalization;
using Pipeline.Imaging;
using Pipeline.Imaging.Nifti;
using Pipeline.Imaging.Noise;
using Pipeline.Imaging.Samples;
using Spectre.Console.Cli;

namespace Pipeline.Cli.Commands.Imaging;

/// <summary>`pipeline samples make NIFTI OUTDIR [--noise rician:0.1 --seed N]`: a clean MR series and an optional noisy copy.</summary>
internal sealed class MakeSamplesCommand : Command<MakeSamplesCommand.Settings>
{
    internal sealed class Settings : CommandSettings
    {
        [CommandArgument(0, "<NIFTI>")]
        [Description("NIfTI-1 volume (.nii or .nii.gz), e.g. /usr/share/mricron/templates/ch2.nii.gz.")]
        public string Nifti { get; init; } = "";

        [CommandArgument(1, "<OUTDIR>")]
        [Description("Folder for the clean series (one file per slice). A noisy copy goes to OUTDIR-noisy.")]
        public string OutDir { get; init; } = "";

        [CommandOption("--noise <SPEC>")]
        [Description("Also write a noisy copy: gaussian|rician|poisson|masking:LEVEL, LEVEL a fraction of 2^BitsStored-1 (masking: of pixels).")]
        public string? Noise { get; init; }

        [CommandOption("--seed <N>")]
        [Description("Noise seed (default 1).")]
        public int Seed { get; init; } = 1;

        [CommandOption("--first-slice <K>")]
        [Description("First slice of a slab (default 0).")]
        public int FirstSlice { get; init; }

        [CommandOption("--slices <N>")]
        [Description("Number of slices in the slab (default: all from --first-slice).")]
        public int? Slices { get; init; }

        public override Spectre.Console.ValidationResult Validate()
        {
            if (Noise is not null)
            {
                try { NoiseModel.Parse(Noise); }
                catch (FormatException e) { return Spectre.Console.ValidationResult.Error(e.Message); }
            }
            return FirstSlice < 0 || Slices is <= 0
                ? Spectre.Console.ValidationResult.Error("--first-slice must be >= 0 and --slices > 0")
                : Spectre.Console.ValidationResult.Success();
        }
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        try
        {
            var volume = NiftiReader.Read(settings.Nifti).Volume;
            var count = settings.Slices ?? volume.Depth - settings.FirstSlice;
            volume = volume.Slab(settings.FirstSlice, count);
            var options = SampleSeriesOptions.ForSlab(settings.Nifti, settings.FirstSlice, count);
            var stored = SampleSeries.ToStoredScale(volume, options.BitsStored);
            var clean = SampleSeries.Write(stored, settings.OutDir, options);
            Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{settings.OutDir}: {clean.Files.Count} instances {volume.Width}x{volume.Height}, series {clean.SeriesInstanceUid}"));
            if (settings.Noise is { } spec)
            {
                var noise = NoiseModel.Parse(spec);
                var noisyFolder = settings.OutDir.TrimEnd('/', Path.DirectorySeparatorChar) + "-noisy";
                var noisy = SampleSeries.AddNoise(stored, noise, settings.Seed, options.BitsStored);
                var written = SampleSeries.Write(noisy, noisyFolder, options, SampleSeries.NoisyKind(noise, settings.Seed), seriesNumber: 2);
                Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{noisyFolder}: {written.Files.Count} instances with {noise} (level as a fraction of 2^{options.BitsStored}-1), seed {settings.Seed}, series {written.SeriesInstanceUid}"));
            }
            return 0;
        }
        catch (Exception e) when (e is IOException or InvalidDataException or NotSupportedException or ArgumentException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return 1;
        }
    }
}
