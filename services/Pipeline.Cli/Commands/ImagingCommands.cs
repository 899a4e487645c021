using Pipeline.Cli.Commands.Imaging;
using Spectre.Console.Cli;

namespace Pipeline.Cli.Commands;

/// <summary>Registers the imaging verbs of the command-line tool.</summary>
internal static class ImagingCommands
{
    public static void AddImagingCommands(this IConfigurator config)
    {
        config.AddBranch("samples", samples =>
        {
            samples.SetDescription("Realistic sample studies for tests, demos and training.");
            samples.AddCommand<MakeSamplesCommand>("make")
                .WithDescription("Turn a NIfTI volume into an MR DICOM series, optionally with a noisy copy in OUTDIR-noisy.")
                .WithExample("samples", "make", "/usr/share/mricron/templates/ch2.nii.gz", "out/clean", "--noise", "rician:0.1", "--seed", "1");
        });
        config.AddCommand<MetricsCommand>("metrics")
            .WithDescription("MSE, PSNR and SSIM of a test series against a reference series, as JSON.")
            .WithExample("metrics", "out/clean", "out/clean-noisy");
    }
}
