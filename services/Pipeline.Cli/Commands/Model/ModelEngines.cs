using Pipeline.Denoising.Inference;
using Pipeline.Denoising.Models;
using Pipeline.Denoising.Training.Inference;

namespace Pipeline.Cli.Commands.Model;

/// <summary>Opens a model folder's network on the engine the user chose (ONNX Runtime by default).</summary>
internal static class ModelEngines
{
    public static IDenoisingEngine Open(ModelFolder model, EngineOptions options) =>
        options.Engine == EngineOptions.TorchSharp
            ? TorchSharpEngine.Load(model.Manifest.Architecture, model.WeightsPath, options)
            : new OnnxRuntimeEngine(model.Onnx, model.Manifest.Architecture, options);
}
