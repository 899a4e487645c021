namespace Pipeline.Denoising.Inference;

/// <summary>Where inference runs: the GPU when one is usable (auto), or forced.</summary>
public enum DevicePreference
{
    Auto,
    Cpu,
    Cuda,
}

/// <summary>Engine choice and its knobs (bound from configuration section "Denoising:Engine").</summary>
public sealed record EngineOptions
{
    public const string OnnxRuntime = "onnxruntime";
    public const string TorchSharp = "torchsharp";

    /// <summary>"onnxruntime" (default) or "torchsharp" (needs Pipeline.Denoising.Training).</summary>
    public string Engine { get; init; } = OnnxRuntime;

    public DevicePreference Device { get; init; } = DevicePreference.Auto;

    /// <summary>Intra-op threads on CPU; 0 = one per core.</summary>
    public int Threads { get; init; }

    /// <summary>GPU ordinal when running on CUDA.</summary>
    public int CudaDeviceId { get; init; }

    public int ResolvedThreads => Threads > 0 ? Threads : Environment.ProcessorCount;
}
