using Microsoft.Extensions.Logging;
using Pipeline.Denoising.Inference;

namespace Pipeline.Denoising.Models;

/// <summary>Opens a verified model folder as a ready-to-use series denoiser (ONNX Runtime, or an engine the caller built).</summary>
public static class DenoisingModel
{
    /// <summary>The bundled default model, copied beside the application (Models/default).</summary>
    public static string DefaultFolder => Path.Combine(AppContext.BaseDirectory, "Models", "default");

    /// <summary>The model's ONNX graph on ONNX Runtime, with the model's own normalisation.</summary>
    public static SeriesDenoiser OpenOnnx(ModelFolder model, EngineOptions? options = null, TilingOptions? tiling = null, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        return Open(model, new OnnxRuntimeEngine(model.Onnx, model.Manifest.Architecture, options, logger), tiling);
    }

    /// <summary>The model on an engine the caller built from the same folder (e.g. TorchSharp on its weights), with the
    /// model's own normalisation. The denoiser's <see cref="SeriesDenoiser.Engine"/> is the caller's to dispose.</summary>
    public static SeriesDenoiser Open(ModelFolder model, IDenoisingEngine engine, TilingOptions? tiling = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        return new SeriesDenoiser(engine, model.Manifest.Normalisation.ToOptions(), tiling);
    }
}
