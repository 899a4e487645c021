using Pipeline.Cli.Commands;
using Spectre.Console.Cli;

var app = new CommandApp();
app.Configure(config =>
{
    config.SetApplicationName("pipeline");
    config.AddCommand<PlanCommand>("plan")
        .WithDescription("Print what the pipeline would do with a folder or bucket of DICOM studies.");
});
return await app.RunAsync(args);
