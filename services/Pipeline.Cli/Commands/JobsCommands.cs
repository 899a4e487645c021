using Pipeline.Cli.Commands.Jobs;
using Spectre.Console.Cli;

namespace Pipeline.Cli.Commands;

/// <summary>Registers the replay verbs of the command-line tool.</summary>
internal static class JobsCommands
{
    public static void AddJobsCommands(this IConfigurator config)
    {
        config.AddBranch("jobs", jobs =>
        {
            jobs.SetDescription("Failed work: list it with its reasons, run it again once the cause is fixed.");
            jobs.AddCommand<FailedCommand>("failed")
                .WithDescription("List failed objects with their reasons, grouped by series, and the services' error queue counts.");
            jobs.AddCommand<RetryCommand>("retry")
                .WithDescription("Run a failed series (or --all) again: jobs move back from the error queues (embedded: the run is redone).");
        });
    }
}
