using Microsoft.Extensions.Logging;

namespace Pipeline.Denoising.Training.Training;

/// <summary>The trainer's log events (ids 500-599). No patient data: steps, figures, model versions and folders.</summary>
internal static partial class Log
{
    [LoggerMessage(501, LogLevel.Information, "Resuming training at step {Step} from {Folder}")]
    public static partial void Resuming(ILogger logger, int step, string folder);

    [LoggerMessage(502, LogLevel.Information, "Step {Step}: validation PSNR {Psnr:F2} dB, SSIM {Ssim:F4} (noisy {NoisyPsnr:F2} dB)")]
    public static partial void Validated(ILogger logger, int step, double psnr, double ssim, double noisyPsnr);

    [LoggerMessage(503, LogLevel.Information, "Starting from the weights of model {Version} ({Folder})")]
    public static partial void StartingFromModel(ILogger logger, string version, string folder);
}
