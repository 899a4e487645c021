using System.Runtime.InteropServices;
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
    config.AddCommand<SubmitCommand>("submit")
        .WithDescription("Turn every study under BUCKET/PREFIX into jobs of one named batch (a message to ingest).");
    config.AddCommand<BatchesCommand>("batches")
        .WithDescription("List the batches with their progress, from their records in the output bucket.");
    config.AddCommand<TraceCommand>("trace")
        .WithDescription("Print a study's trace id (to search for its one trace in Grafana/Tempo).");
    config.AddCommand<PlanCommand>("plan")
        .WithDescription("Print what the pipeline would do with a folder or bucket of DICOM studies.");
    // Each area registers its own verbs (one file per area under Commands/).
    config.AddDicomCommands();
    config.AddImagingCommands();
    config.AddModelCommands();
    config.AddBenchCommands();
    config.AddJobsCommands();
});

// Ctrl+C and SIGTERM cancel the verb in hand, which stops promptly with its outputs whole (object writes are atomic and a
// series' marker is written last); a second signal ends the process at once.
using var stop = new CancellationTokenSource();
void Cancel(PosixSignalContext signal)
{
    signal.Cancel = !stop.IsCancellationRequested;
    stop.Cancel();
}
using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Cancel);
using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Cancel);
return await app.RunAsync(args, stop.Token);
