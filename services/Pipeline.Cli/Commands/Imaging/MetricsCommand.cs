using System.ComponentModel;
using System.Text.Json;
using Pipeline.Dicom;
using Pipeline.Imaging.Dicom;
using Spectre.Console.Cli;

namespace Pipeline.Cli.Commands.Imaging;

/// <summary>
/// `pipeline metrics REFERENCE TEST [--data-range R]`: per-instance and mean MSE/PSNR/SSIM as JSON
/// {"instances":[{"reference","test","mse","psnr","ssim"}],"mean":{"mse","psnr","ssim"}}; PSNR of identical
/// images (+infinity) is written as null.
/// </summary>
internal sealed class MetricsCommand : Command<MetricsCommand.Settings>
{
    internal sealed class Settings : CommandSettings
    {
        [CommandArgument(0, "<REFERENCE>")]
        [Description("Reference instance, or a folder holding one series.")]
        public string Reference { get; init; } = "";

        [CommandArgument(1, "<TEST>")]
        [Description("Test instance, or a folder holding one series (matched by slice position, else instance number).")]
        public string Test { get; init; } = "";

        [CommandOption("--data-range <R>")]
        [Description("Data range for PSNR and SSIM, in values after rescale (default 2^BitsStored - 1 of the reference).")]
        public double? DataRange { get; init; }

        public override Spectre.Console.ValidationResult Validate() => DataRange is <= 0 or double.NaN
            ? Spectre.Console.ValidationResult.Error("--data-range must be positive")
            : Spectre.Console.ValidationResult.Success();
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        try
        {
            var metrics = SeriesComparison.Compare(
                SeriesInstance.ReadSeries(settings.Reference), SeriesInstance.ReadSeries(settings.Test), settings.DataRange);
            using var stdout = Console.OpenStandardOutput();
            using (var json = new Utf8JsonWriter(stdout, new JsonWriterOptions { Indented = true }))
            {
                json.WriteStartObject();
                json.WriteStartArray("instances");
                foreach (var m in metrics.Instances)
                {
                    json.WriteStartObject();
                    json.WriteString("reference", m.Reference);
                    json.WriteString("test", m.Test);
                    WriteMetrics(json, m.Mse, m.Psnr, m.Ssim);
                    json.WriteEndObject();
                }
                json.WriteEndArray();
                json.WriteStartObject("mean");
                WriteMetrics(json, metrics.MeanMse, metrics.MeanPsnr, metrics.MeanSsim);
                json.WriteEndObject();
                json.WriteEndObject();
            }
            stdout.Write("\n"u8);
            return 0;
        }
        catch (Exception e) when (e is IOException or InvalidDataException or DicomException or NotSupportedException or ArgumentException)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return 1;
        }
    }

    private static void WriteMetrics(Utf8JsonWriter json, double mse, double psnr, double ssim)
    {
        json.WriteNumber("mse", mse);
        if (double.IsFinite(psnr)) json.WriteNumber("psnr", psnr);
        else json.WriteNull("psnr");
        json.WriteNumber("ssim", ssim);
    }
}
