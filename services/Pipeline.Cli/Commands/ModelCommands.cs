using Pipeline.Cli.Commands.Model;
using Spectre.Console.Cli;

namespace Pipeline.Cli.Commands;

/// <summary>Registers the model verbs of the command-line tool.</summary>
internal static class ModelCommands
{
    public static void AddModelCommands(this IConfigurator config)
    {
        config.AddBranch("model", model =>
        {
            model.SetDescription("Train, export and run denoising models.");
            model.AddCommand<TrainCommand>("train")
                .WithDescription("Train a denoising model on NIfTI volumes or DICOM series folders (slice-position split) and write a model folder.");
            model.AddCommand<ExportCommand>("export")
            .WithDescription("Re-export model.onnx from a model folder's weights and refresh the manifest hashes.");
            model.AddCommand<DenoiseCommand>("denoise")
            .WithDescription("Denoise a folder of DICOM files into derived DICOM series, or a NIfTI volume (optionally adding seeded noise first) into float32 raw slices.");
            model.AddCommand<EvaluateCommand>("evaluate")
            .WithDescription("Quality protocol: PSNR/SSIM of noisy input, NLM and median baselines and the model per noise level and scaling.");
            model.AddCommand<ListCommand>("list")
                .WithDescription("List the registry's model versions with their state (current, previous, rejected, candidate).");
            model.AddCommand<ShowCommand>("show")
                .WithDescription("Show one model version: manifest, training lineage, state, and the training runs that decided on it.");
            model.AddCommand<PromoteCommand>("promote")
                .WithDescription("Verify a model version in the registry and make it current (workers switch to it).");
            model.AddCommand<RollbackCommand>("rollback")
                .WithDescription("Make the version the current one replaced current again; the current one is marked rejected.");
            model.AddCommand<RetrainCommand>("retrain")
                .WithDescription("Ask the deployment's training coordinator for a run now (--wait: progress, then the decision).");
            model.AddCommand<RunsCommand>("runs")
                .WithDescription("List the training runs' decision records (promoted or not, and why).");
        });
    }
}
