using Pipeline.Denoising.Inference;
using Pipeline.Denoising.Models;
using Pipeline.Denoising.Training.Inference;

namespace Pipeline.Cli.Commands.Model;

/// <summary>Opens a model folder as a denoiser on the engine the user chose (ONNX Runtime by default).</summary>
internal static class ModelEngines
{
    /// <summary>The denoiser's <see cref="SeriesDenoiser.Engine"/> is the caller's to dispose.</summary>
    public static SeriesDenoiser Open(ModelFolder model, EngineOptions options) =>
        options.Engine == EngineOptions.TorchSharp
            ? DenoisingModel.Open(model, TorchSharpEngine.Load(model.Manifest.Architecture, model.WeightsPath, options))
            : DenoisingModel.OpenOnnx(model, options);
}
