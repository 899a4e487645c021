using Spectre.Console.Cli;

namespace Pipeline.Cli.Commands;

/// <summary>Registers the imaging verbs of the command-line tool.</summary>
internal static class ImagingCommands
{
    public static void AddImagingCommands(this IConfigurator config)
    {
        _ = config; // verbs arrive with their issue
    }
}
