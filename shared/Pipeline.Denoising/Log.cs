using Microsoft.Extensions.Logging;

namespace Pipeline.Denoising;

/// <summary>The denoising library's log events (ids 400-499). No patient data: engines, devices and reasons only.</summary>
internal static partial class Log
{
    /// <summary>Every engine, ONNX Runtime or TorchSharp, reports where it runs once it is ready.</summary>
    [LoggerMessage(401, LogLevel.Information, "Denoising engine {Engine} on {Device}, architecture {Architecture}")]
    public static partial void EngineStarted(ILogger logger, string engine, string device, string architecture);

    [LoggerMessage(402, LogLevel.Information, "ONNX Runtime uses the CPU: {Reason}")]
    public static partial void OnnxRuntimeOnCpu(ILogger logger, string reason);

    [LoggerMessage(403, LogLevel.Warning, "ONNX Runtime CUDA provider unavailable, falling back to CPU: {Reason}")]
    public static partial void CudaUnavailable(ILogger logger, string reason);
}
