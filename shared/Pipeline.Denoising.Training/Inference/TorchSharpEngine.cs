using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Pipeline.Denoising.Architectures;
using Pipeline.Denoising.Inference;
using Pipeline.Denoising.Training.Networks;
using TorchSharp;
using static TorchSharp.torch;

namespace Pipeline.Denoising.Training.Inference;

/// <summary>
/// Inference with libtorch through TorchSharp (for training-side evaluation, or where ONNX Runtime
/// is not wanted). Each call runs in its own dispose scope so native memory does not grow.
/// </summary>
public sealed class TorchSharpEngine : IDenoisingEngine
{
    private readonly DenoisingNetwork _network;
    private readonly Device _device;

    public TorchSharpEngine(DenoisingNetwork network, EngineOptions? options = null, ILogger? logger = null)
    {
        _network = network ?? throw new ArgumentNullException(nameof(network));
        options ??= new EngineOptions();
        NativeAllocator.KeepFreedMemory();
        var cuda = options.Device != DevicePreference.Cpu && cuda_is_available();
        if (options.Device == DevicePreference.Cuda && !cuda)
            throw new InvalidOperationException("CUDA was required but libtorch sees no GPU (CPU build or no device).");
        _device = cuda ? new Device(DeviceType.CUDA, options.CudaDeviceId) : CPU;
        if (!cuda)
            set_num_threads(options.ResolvedThreads);
        Device = cuda ? $"cuda:{options.CudaDeviceId}" : $"cpu ({options.ResolvedThreads} threads)";
        _network.to(_device);
        _network.eval();
        Log.EngineStarted(logger ?? NullLogger.Instance, Name, Device, network.Spec.Name);
    }

    public static TorchSharpEngine Load(ArchitectureSpec spec, string safetensorsPath, EngineOptions? options = null, ILogger? logger = null) =>
        new(DenoisingNetwork.Load(spec, safetensorsPath), options, logger);

    public string Name => EngineOptions.TorchSharp;

    public string Device { get; }

    public ArchitectureSpec Architecture => _network.Spec;

    public void Run(ReadOnlyMemory<float> input, Memory<float> output, int batch, int height, int width)
    {
        var channels = Architecture.InChannels;
        if (input.Length != batch * channels * height * width || output.Length != batch * height * width)
            throw new ArgumentException("Buffer sizes do not match the batch shape.");
        // Synchronous on one thread: dispose scopes are per thread.
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var x = Tensors.Copy(input.Span.ToArray(), batch, channels, height, width).to(_device);
        var y = _network.forward(x).cpu().contiguous();
        y.data<float>().CopyTo(output.Span);
    }

    public void Dispose() => _network.Dispose();
}
