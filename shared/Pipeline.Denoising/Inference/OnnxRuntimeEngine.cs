using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.ML.OnnxRuntime;
using Pipeline.Denoising.Architectures;
using Pipeline.Denoising.Export;

namespace Pipeline.Denoising.Inference;

/// <summary>
/// The default engine: ONNX Runtime on CUDA when its provider is in the native build (package
/// Microsoft.ML.OnnxRuntime.Gpu.Linux, build with -p:OnnxDevice=cuda) and a GPU answers,
/// otherwise on CPU with all graph optimisations. Inputs and outputs are pinned, not copied.
/// </summary>
public sealed class OnnxRuntimeEngine : IDenoisingEngine
{
    private const string CudaProvider = "CUDAExecutionProvider";
    private readonly InferenceSession _session;
    private readonly RunOptions _runOptions = new();
    private readonly string[] _inputNames = [OnnxExporter.InputName];
    private readonly string[] _outputNames = [OnnxExporter.OutputName];

    public OnnxRuntimeEngine(byte[] onnxModel, ArchitectureSpec architecture, EngineOptions? options = null, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(onnxModel);
        Architecture = architecture ?? throw new ArgumentNullException(nameof(architecture));
        options ??= new EngineOptions();
        logger ??= NullLogger.Instance;

        using var sessionOptions = new SessionOptions
        {
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            IntraOpNumThreads = options.ResolvedThreads,
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
        };
        Device = $"cpu ({options.ResolvedThreads} threads)";
        var reason = "CPU requested";
        if (options.Device != DevicePreference.Cpu && TryAppendCuda(sessionOptions, options, logger, out reason))
            Device = $"cuda:{options.CudaDeviceId}";
        else if (options.Device == DevicePreference.Cuda)
            throw new InvalidOperationException($"CUDA was required but is unavailable: {reason}");
        else if (options.Device == DevicePreference.Auto)
            Log.OnnxRuntimeOnCpu(logger, reason);

        _session = new InferenceSession(onnxModel, sessionOptions);
        Log.EngineStarted(logger, Name, Device, architecture.Name);
    }

    public string Name => EngineOptions.OnnxRuntime;

    public string Device { get; }

    public ArchitectureSpec Architecture { get; }

    /// <summary>Execution providers compiled into the loaded native library.</summary>
    public static IReadOnlyList<string> AvailableProviders() => OrtEnv.Instance().GetAvailableProviders();

    public void Run(ReadOnlyMemory<float> input, Memory<float> output, int batch, int height, int width)
    {
        var inShape = new long[] { batch, Architecture.InChannels, height, width };
        var outShape = new long[] { batch, 1, height, width };
        if (input.Length != batch * Architecture.InChannels * height * width || output.Length != batch * height * width)
            throw new ArgumentException("Buffer sizes do not match the batch shape.");
        // ORT reads the input and writes the output in place: the memory is pinned for the call.
        using var inValue = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance,
            System.Runtime.InteropServices.MemoryMarshal.AsMemory(input), inShape);
        using var outValue = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, output, outShape);
        _session.Run(_runOptions, _inputNames, [inValue], _outputNames, [outValue]);
    }

    public void Dispose()
    {
        _session.Dispose();
        _runOptions.Dispose();
    }

    private static bool TryAppendCuda(SessionOptions sessionOptions, EngineOptions options, ILogger logger, out string reason)
    {
        if (!AvailableProviders().Contains(CudaProvider))
        {
            reason = "this ONNX Runtime build has no CUDA provider (CPU package)";
            return false;
        }
        try
        {
            sessionOptions.AppendExecutionProvider_CUDA(options.CudaDeviceId);
            reason = "";
            return true;
        }
        catch (OnnxRuntimeException e)
        {
            // No GPU, no driver, or CUDA/cuDNN libraries missing from the image.
            reason = $"CUDA provider failed to start ({e.Message})";
            Log.CudaUnavailable(logger, e.Message);
            return false;
        }
    }
}
