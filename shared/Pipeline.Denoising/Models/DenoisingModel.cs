using Microsoft.Extensions.Logging;
using Pipeline.Denoising.Inference;

namespace Pipeline.Denoising.Models;

/// <summary>Opens a verified model folder as a ready-to-use series denoiser on ONNX Runtime.</summary>
public static class DenoisingModel
{
    /// <summary>The bundled default model, copied beside the application (Models/default).</summary>
    public static string DefaultFolder => Path.Combine(AppContext.BaseDirectory, "Models", "default");

    public static SeriesDenoiser OpenOnnx(ModelFolder model, EngineOptions? options = null, TilingOptions? tiling = null, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        var engine = new OnnxRuntimeEngine(model.Onnx, model.Manifest.Architecture, options, logger);
        return new SeriesDenoiser(engine, model.Manifest.Normalisation.ToOptions(), tiling);
    }
}
