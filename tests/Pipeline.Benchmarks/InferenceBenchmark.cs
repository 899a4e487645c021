using System.Diagnostics;
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
        string Arg(string name, string fallback)
        {
            var i = Array.IndexOf(args, "--" + name);
            return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
        }
        NativeAllocator.KeepFreedMemory();
        var spec = Arg("arch", "cdae") == ArchitectureSpec.Cdae ? ArchitectureSpec.GondaraCdae() : ArchitectureSpec.ResidualDenoiser();
        var size = int.Parse(Arg("size", "256"), CultureInfo.InvariantCulture);
        var batch = int.Parse(Arg("batch", "8"), CultureInfo.InvariantCulture);
        var threads = int.Parse(Arg("threads", "2"), CultureInfo.InvariantCulture);
        var seconds = double.Parse(Arg("seconds", "10"), CultureInfo.InvariantCulture);

        torch.manual_seed(1);
        var network = DenoisingNetwork.Create(spec);
        var options = new EngineOptions { Threads = threads, Device = DevicePreference.Cpu };
        var input = new float[batch * spec.InChannels * size * size];
        var random = new Random(1);
        for (var i = 0; i < input.Length; i++)
            input[i] = random.NextSingle();
        var output = new float[batch * size * size];
        var gflopPerSlice = 2 * spec.MacsPerPixel() * size * size / 1e9;
        Console.WriteLine($"arch {spec.Name}, {size}x{size}, batch {batch}, {threads} threads, {gflopPerSlice:F3} GFLOP/slice");

        using var ort = new OnnxRuntimeEngine(OnnxExporter.Export(spec, network.Weights()), spec, options);
        using var ts = new TorchSharpEngine(network, options);
        foreach (var engine in new IDenoisingEngine[] { ort, ts })
        {
            engine.Run(input, output, batch, size, size); // warm-up
            var clock = Stopwatch.StartNew();
            var slices = 0;
            while (clock.Elapsed.TotalSeconds < seconds)
            {
                engine.Run(input, output, batch, size, size);
                slices += batch;
            }
            var rate = slices / clock.Elapsed.TotalSeconds;
            using var process = Process.GetCurrentProcess();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"engine {engine.Name,-12} device {engine.Device,-16} slices_per_s {rate,7:F1}  gflops {rate * gflopPerSlice,6:F1}  peak_rss_mb {process.PeakWorkingSet64 / 1e6:F0}"));
        }
        return Task.FromResult(0);
    }
}
