using Pipeline.Cli.Commands;
using Pipeline.Cli.Commands.Pipeline;
using Spectre.Console.Cli;

var app = new CommandApp();
app.Configure(config =>
{
    config.SetApplicationName("pipeline");
    config.AddCommand<RunCommand>("run")
        .WithDescription("Run ingest, denoising and evaluation in this process on a folder of DICOM studies (no servers).");
    config.AddCommand<StatusCommand>("status")
        .WithDescription("List series done, objects failed (with reasons) and input objects pending, from the buckets.");
    config.AddCommand<PlanCommand>("plan")
        .WithDescription("Print what the pipeline would do with a folder or bucket of DICOM studies.");
    // Each area registers its own verbs (one file per area under Commands/).
    config.AddDicomCommands();
    config.AddImagingCommands();
    config.AddModelCommands();
    config.AddBenchCommands();
});
return await app.RunAsync(args);
