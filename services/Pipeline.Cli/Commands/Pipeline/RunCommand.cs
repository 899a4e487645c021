using System.ComponentModel;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Pipeline.Cli.Embedded;
using Pipeline.Contracts;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Pipeline.Cli.Commands.Pipeline;

/// <summary>
/// `pipeline run [INPUT_DIR] [--out OUT_DIR] [--model DIR]`: the whole pipeline in one process, no
/// servers. Exit codes: 0 every readable image was denoised and evaluated; 2 some objects failed (each
/// has a failure record under OUT_DIR/failures/); 1 the run itself could not proceed; 130 stopped by Ctrl+C or SIGTERM.
/// </summary>
internal sealed class RunCommand : AsyncCommand<RunCommand.Settings>
{
    public const int SomeObjectsFailed = 2;

    /// <summary>Stopped by Ctrl+C or SIGTERM (128 + SIGINT, as shells report it).</summary>
    public const int Interrupted = 130;

    internal sealed class Settings : CommandSettings
    {
        [CommandArgument(0, "[INPUT_DIR]"), Description("Folder of DICOM studies, read recursively, never modified (default: the bundled sample study)")]
        public string? Input { get; init; }

        [CommandOption("--out <OUT_DIR>"), Description("Output folder: the output bucket's key layout (default ./pipeline-out)")]
        public string Output { get; init; } = "pipeline-out";

        [CommandOption("--model <DIR>"), Description("Model folder (default: the bundled default model)")]
        public string? Model { get; init; }

        public override ValidationResult Validate() =>
            Input is not null && !Directory.Exists(Input) ? ValidationResult.Error($"input folder '{Input}' does not exist") : ValidationResult.Success();
    }

    public override Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken) =>
        RunAsync(settings.Input ?? SampleStudy.Folder, settings.Output, settings.Model, cancellationToken);

    /// <summary>Runs the embedded pipeline over <paramref name="inputFolder"/> into <paramref name="outputFolder"/>; returns the exit code.</summary>
    public static async Task<int> RunAsync(string inputFolder, string outputFolder, string? modelFolder, CancellationToken cancellationToken)
    {
        var input = Path.GetFullPath(inputFolder);
        var output = Path.GetFullPath(outputFolder);
        if (output == input || output.StartsWith(input + Path.DirectorySeparatorChar, StringComparison.Ordinal))
        {
            AnsiConsole.MarkupLine("[red]The output folder must not be inside the input folder (the input is never modified).[/]");
            return 1;
        }
        Directory.CreateDirectory(output);
        await using var pipeline = EmbeddedPipeline.Create(input, output);
        var model = await pipeline.UseModelAsync(modelFolder, cancellationToken);
        AnsiConsole.MarkupLineInterpolated($"input [blue]{input}[/] -> output [blue]{output}[/], model [blue]{model.ToString()}[/]");

        var started = Stopwatch.StartNew();
        var startedAt = DateTimeOffset.UtcNow;
        using var slices = new SliceRate();
        try
        {
            await pipeline.StartAsync(cancellationToken);
            await ShowProgressAsync(pipeline, slices, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            var progress = pipeline.Progress;
            AnsiConsole.MarkupLineInterpolated(
                $"[yellow]stopped[/]: {progress.Finished} of {progress.Jobs} series finished in {started.Elapsed.TotalSeconds:F1} s; what was written is whole (a series counts once its complete.json exists), a rerun continues from there");
            return Interrupted;
        }

        var status = await PipelineStatus.ReadAsync(pipeline.Store, EmbeddedPipeline.InputBucket, EmbeddedPipeline.OutputBucket, cancellationToken);
        StatusView.Write(status, output);
        await MorningReport.WriteAsync(pipeline.Store, EmbeddedPipeline.OutputBucket, BucketLayout.RunReport,
            new ReportScope("pipeline run", startedAt, startedAt + started.Elapsed), status, cancellationToken);
        AnsiConsole.MarkupLineInterpolated($"{slices.Total} slices denoised in {started.Elapsed.TotalSeconds:F1} s; report [blue]{Path.Combine(output, BucketLayout.RunReport)}[/], per series under [blue]{Path.Combine(output, "studies")}[/]");
        return status.Failures.Count > 0 ? SomeObjectsFailed : 0;
    }

    private static async Task ShowProgressAsync(EmbeddedPipeline pipeline, SliceRate slices, CancellationToken cancellationToken)
    {
        if (AnsiConsole.Profile.Capabilities.Interactive)
        {
            await AnsiConsole.Progress()
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
                .StartAsync(async ctx =>
                {
                    var series = ctx.AddTask("series");
                    var instances = ctx.AddTask("instances");
                    var done = pipeline.WaitUntilDoneAsync(cancellationToken);
                    while (!done.IsCompleted)
                    {
                        Update(series, instances, pipeline.Progress, slices);
                        await Task.WhenAny(done, Task.Delay(200, cancellationToken));
                    }
                    await done;
                    Update(series, instances, pipeline.Progress, slices);
                });
        }
        else
        {
            var progress = pipeline.Progress;
            var last = -1;
            progress.Changed += () =>
            {
                if (Interlocked.Exchange(ref last, progress.Finished) != progress.Finished)
                    Console.WriteLine($"series {progress.Finished}/{progress.Jobs} done, {progress.InstancesDone}/{progress.InstancesTotal} instances, {slices.PerSecond:F1} slices/s");
            };
            await pipeline.WaitUntilDoneAsync(cancellationToken);
        }
    }

    private static void Update(ProgressTask series, ProgressTask instances, RunProgress progress, SliceRate slices)
    {
        series.MaxValue = Math.Max(1, progress.Jobs);
        series.Value = progress.Finished;
        instances.MaxValue = Math.Max(1, progress.InstancesTotal);
        instances.Value = progress.InstancesDone;
        instances.Description = $"instances ({slices.PerSecond:F1} slices/s)";
    }

    /// <summary>Slices per second from the worker's own metric (what operators see in Grafana).</summary>
    private sealed class SliceRate : IDisposable
    {
        private readonly MeterListener _listener = new();
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private long _total;

        public SliceRate()
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == PipelineMetrics.DenoiseWorkerMeter && instrument.Name == PipelineMetrics.SlicesDenoised)
                    listener.EnableMeasurementEvents(instrument);
            };
            _listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref _total, value));
            _listener.Start();
        }

        public long Total => Interlocked.Read(ref _total);

        public double PerSecond => Total / Math.Max(_clock.Elapsed.TotalSeconds, 1e-3);

        public void Dispose() => _listener.Dispose();
    }
}
