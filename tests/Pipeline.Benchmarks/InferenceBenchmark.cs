using System.Globalization;
using Pipeline.Denoising.Architectures;
using Pipeline.Denoising.Export;
using Pipeline.Denoising.Inference;
using Pipeline.Denoising.Training.Inference;
using Pipeline.Denoising.Training.Networks;
using TorchSharp;

namespace Pipeline.Benchmarks;

/// <summary>
/// Slices/s of the ONNX Runtime and TorchSharp engines on the same seeded weights in one run:
/// `inference [--arch cdae|dncnn] [--size 256] [--batch 8] [--threads 2] [--seconds 10]`.
/// </summary>
public sealed class InferenceBenchmark : IBenchmark
{
    public string Name => "inference";

    public string Description => "ONNX Runtime vs TorchSharp denoising engines: slices/s and GFLOP/s";

    public Task<int> RunAsync(string[] args)
    {
        NativeAllocator.KeepFreedMemory();
        var spec = ArchitectureSpec.ByName(Arguments.Get(args, "arch", ArchitectureSpec.Cdae));
        var size = Arguments.Int(args, "size", 256);
        var batch = Arguments.Int(args, "batch", 8);
        var threads = Arguments.Int(args, "threads", 2);
        var seconds = Arguments.Double(args, "seconds", 10);

        torch.manual_seed(1);
        var network = DenoisingNetwork.Create(spec);
        var options = new EngineOptions { Threads = threads, Device = DevicePreference.Cpu };
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"arch {spec.Name}, {size}x{size}, batch {batch}, {threads} threads"));
        using var ort = new OnnxRuntimeEngine(OnnxExporter.Export(spec, network.Weights()), spec, options);
        using var ts = new TorchSharpEngine(network, options);
        foreach (var engine in new IDenoisingEngine[] { ort, ts })
            Console.WriteLine(EngineThroughput.Measure(engine, size, batch, TimeSpan.FromSeconds(seconds)));
        return Task.FromResult(0);
    }
}
