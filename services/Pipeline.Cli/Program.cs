using Pipeline.Cli.Commands;
using Spectre.Console.Cli;

var app = new CommandApp();
app.Configure(config =>
{
    config.SetApplicationName("pipeline");
    config.AddCommand<PlanCommand>("plan")
        .WithDescription("Print what the pipeline would do with a folder or bucket of DICOM studies.");
    // Each area registers its own verbs (one file per area under Commands/).
    config.AddDicomCommands();
    config.AddImagingCommands();
    config.AddModelCommands();
});
return await app.RunAsync(args);
