using Spectre.Console.Cli;

namespace Pipeline.Cli.Commands;

/// <summary>Registers the model verbs of the command-line tool.</summary>
internal static class ModelCommands
{
    public static void AddModelCommands(this IConfigurator config)
    {
        _ = config; // verbs arrive with their issue
    }
}
