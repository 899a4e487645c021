using Spectre.Console.Cli;

namespace Pipeline.Cli.Commands;

/// <summary>Registers the dicom verbs of the command-line tool.</summary>
internal static class DicomCommands
{
    public static void AddDicomCommands(this IConfigurator config)
    {
        _ = config; // verbs arrive with their issue
    }
}
