using System.ComponentModel;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Pipeline.Cli.Commands;

/// <summary>Prints the pipeline's stages for an input folder; the stages run once the services exist.</summary>
internal sealed class PlanCommand : Command<PlanCommand.Settings>
{
    internal sealed class Settings : CommandSettings
    {
        [CommandArgument(0, "[INPUT]")]
        [Description("Folder of DICOM files (embedded mode) or s3://bucket/prefix.")]
        public string Input { get; init; } = "incoming";
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var table = new Table().AddColumns("step", "service", "what happens");
        table.AddRow("1", "Ingest", $"group DICOM instances under [blue]{Markup.Escape(settings.Input)}[/] into series");
        table.AddRow("2", "DenoiseWorker", "denoise each series with the current model, write a DERIVED series");
        table.AddRow("3", "Evaluation", "noise estimate, PSNR/SSIM, JSON report and PNG montage");
        table.AddRow("4", "TrainingCoordinator", "retrain on a schedule, promote a better model");
        AnsiConsole.Write(table);
        return 0;
    }
}
