using Pipeline.Cli.Commands.Dicom;
using Spectre.Console.Cli;

namespace Pipeline.Cli.Commands;

/// <summary>Registers the dicom verbs of the command-line tool.</summary>
internal static class DicomCommands
{
    public static void AddDicomCommands(this IConfigurator config)
    {
        config.AddBranch("dicom", dicom =>
        {
            dicom.SetDescription("Read, convert and inspect DICOM files.");
            dicom.AddCommand<DumpCommand>("dump").WithDescription("Print a file's elements, like dcmdump.");
            dicom.AddCommand<TranscodeCommand>("transcode").WithDescription("Rewrite a file in another transfer syntax.");
            dicom.AddCommand<PixelsCommand>("pixels").WithDescription("Write the decoded pixel data (native little endian, all frames) to a raw file.");
        });
    }
}
