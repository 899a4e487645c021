using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using Pipeline.Denoising.Architectures;
using Pipeline.Denoising.Export;
using Pipeline.Denoising.Inference;
using Pipeline.Denoising.Training.Inference;
using Pipeline.Denoising.Training.Networks;
using TorchSharp;
using static TorchSharp.torch;

namespace Pipeline.Benchmarks;

/// <summary>
/// The Gondara CDAE with the same weights (our safetensors, loaded by Python) in Debian's PyTorch
/// (python3-torch, /usr/bin/python3) and in our ONNX Runtime and TorchSharp engines, in one run:
/// inference slices/s and GFLOP/s with ratios to PyTorch, after a parity check of the outputs; then an Adam
/// training step on 16 patches of 64x64 (MSE) in TorchSharp and PyTorch.
/// `pytorch [--size 256] [--batch 8] [--threads 2] [--seconds 10] [--rounds 1] [--train-threads T]`.
/// </summary>
public sealed class PyTorchComparisonBenchmark : IBenchmark
{
    private const string Python = "/usr/bin/python3";

    public string Name => "pytorch";

    public string Description => "CDAE in Debian PyTorch vs ONNX Runtime and TorchSharp, same weights: slices/s, GFLOP/s, ratios; training step";

    public Task<int> RunAsync(string[] args)
    {
        NativeAllocator.KeepFreedMemory();
        var size = Arguments.Int(args, "size", 256);
        var batch = Arguments.Int(args, "batch", 8);
        var threads = Arguments.Int(args, "threads", 2);
        var seconds = Arguments.Double(args, "seconds", 10);
        var rounds = Arguments.Int(args, "rounds", 1);
        var trainThreads = Arguments.Int(args, "train-threads", threads);
        var spec = ArchitectureSpec.GondaraCdae();
        var gflopPerSlice = 2 * spec.MacsPerPixel() * size * size / 1e9;

        var folder = Directory.CreateTempSubdirectory("pytorch-bench-").FullName;
        try
        {
            torch.manual_seed(1);
            var network = DenoisingNetwork.Create(spec);
            var weights = Path.Combine(folder, "cdae.safetensors");
            network.SaveSafetensors(weights);
            var options = new EngineOptions { Threads = threads, Device = DevicePreference.Cpu };
            using var ort = new OnnxRuntimeEngine(OnnxExporter.Export(spec, network.Weights()), spec, options);
            using var ts = new TorchSharpEngine(DenoisingNetwork.Load(spec, weights), options);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"cdae {size}x{size}, batch {batch}, {threads} threads, {gflopPerSlice:F3} GFLOP/slice, {seconds} s per engine per round; load average {LoadAverage()}"));

            // Parity: the three runtimes compute the same function of the same weights.
            var input = new float[batch * size * size];
            var random = new Random(1);
            for (var i = 0; i < input.Length; i++)
                input[i] = random.NextSingle();
            File.WriteAllBytes(Path.Combine(folder, "input.raw"), MemoryMarshal.AsBytes(input.AsSpan()).ToArray());
            var ortOutput = new float[batch * size * size];
            ort.Run(input, ortOutput, batch, size, size);
            var tsOutput = new float[ortOutput.Length];
            ts.Run(input, tsOutput, batch, size, size);

            var ratios = new Dictionary<string, List<double>> { ["onnxruntime"] = [], ["torchsharp"] = [], ["train torchsharp"] = [] };
            for (var round = 1; round <= rounds; round++)
            {
                var py = RunPython(folder, weights, spec, "infer", size, batch, threads, seconds);
                var pyOutput = MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(Path.Combine(folder, "output.raw"))).ToArray();
                var pyRate = py.GetProperty("slices_per_s").GetDouble();
                var figures = new[] { ort, (IDenoisingEngine)ts }.Select(e => EngineThroughput.Measure(e, size, batch, TimeSpan.FromSeconds(seconds))).ToArray();
                Console.WriteLine($"round {round}: parity max |onnxruntime - pytorch| {MaxDifference(ortOutput, pyOutput):E1}, " +
                                  $"|torchsharp - pytorch| {MaxDifference(tsOutput, pyOutput):E1}");
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"engine {"pytorch " + py.GetProperty("torch").GetString(),-12} device {$"cpu ({py.GetProperty("threads").GetInt32()} threads)",-16} slices_per_s {pyRate,7:F1}  gflop_per_slice {gflopPerSlice:F3}  gflops {pyRate * gflopPerSlice,6:F1}"));
                foreach (var f in figures)
                    ratios[f.Engine].Add(f.SlicesPerSecond / pyRate);
                foreach (var f in figures)
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{f}  vs_pytorch {f.SlicesPerSecond / pyRate:F2}x"));
            }

            // Training step: Adam, MSE, 16 patches of 64x64 (the trainer's default batch), same initial weights.
            const int patches = 16, patch = 64;
            var trainGflop = 3 * 2 * spec.MacsPerPixel() * patch * patch * patches / 1e9; // forward + ~2x for backward
            for (var round = 1; round <= rounds; round++)
            {
                var py = RunPython(folder, weights, spec, "train", patch, patches, trainThreads, seconds);
                var pyRate = py.GetProperty("steps_per_s").GetDouble();
                var tsRate = TorchSharpTrainingSteps(spec, weights, patches, patch, trainThreads, seconds);
                ratios["train torchsharp"].Add(tsRate / pyRate);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"train round {round} ({patches}x{patch}x{patch}, {trainThreads} threads, ~{trainGflop:F2} GFLOP/step): pytorch {pyRate:F2} steps/s ({pyRate * trainGflop:F1} GFLOP/s), torchsharp {tsRate:F2} steps/s ({tsRate * trainGflop:F1} GFLOP/s), torchsharp/pytorch {tsRate / pyRate:F2}x"));
            }
            // Engines run one after another, so a load swing between them moves a single ratio: the median is steadier.
            Console.WriteLine(string.Join(", ", ratios.Select(r => string.Create(CultureInfo.InvariantCulture,
                $"{r.Key}/pytorch median {Median(r.Value):F2}x [{r.Value.Min():F2}, {r.Value.Max():F2}]"))) + $" over {rounds} rounds");
            Console.WriteLine($"load average after: {LoadAverage()}");
            return Task.FromResult(0);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static double TorchSharpTrainingSteps(ArchitectureSpec spec, string weights, int patches, int patch, int threads, double seconds)
    {
        torch.set_num_threads(threads);
        using var network = DenoisingNetwork.Load(spec, weights);
        network.train();
        torch.manual_seed(1);
        using var x = torch.rand(patches, 1, patch, patch);
        using var target = torch.rand(patches, 1, patch, patch);
        using var optimizer = torch.optim.Adam(network.parameters(), lr: 1e-3);
        void Step()
        {
            using var scope = torch.NewDisposeScope();
            optimizer.zero_grad();
            var loss = nn.functional.mse_loss(network.forward(x), target);
            loss.backward();
            optimizer.step();
        }
        Step();
        var clock = Stopwatch.StartNew();
        var steps = 0;
        while (clock.Elapsed.TotalSeconds < seconds)
        {
            Step();
            steps++;
        }
        return steps / clock.Elapsed.TotalSeconds;
    }

    private static JsonElement RunPython(string folder, string weights, ArchitectureSpec spec, string mode, int size, int batch, int threads, double seconds)
    {
        var script = Path.Combine(AppContext.BaseDirectory, "pytorch_cdae.py");
        var start = new ProcessStartInfo(Python) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        // The allocator fix our engines get (NativeAllocator, FACTS.md): without it glibc returns every large
        // activation buffer to the kernel and PyTorch runs ~5x slower here.
        start.Environment["MALLOC_MMAP_MAX_"] = "0";
        start.Environment["MALLOC_TRIM_THRESHOLD_"] = "2147483647";
        start.ArgumentList.Add(script);
        start.ArgumentList.Add(JsonSerializer.Serialize(new
        {
            weights, mode, size, batch, threads, seconds, sigmoid = spec.Output == OutputActivation.Sigmoid,
            input = Path.Combine(folder, "input.raw"), output = Path.Combine(folder, "output.raw"),
        }));
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"cannot start {Python}");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"PyTorch benchmark failed ({process.ExitCode}; is python3-torch installed?): {stderr.Result}");
        return JsonDocument.Parse(stdout.Result).RootElement.Clone();
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }

    private static double MaxDifference(float[] a, float[] b) => a.Zip(b, (x, y) => (double)Math.Abs(x - y)).Max();

    /// <summary>The 1, 5 and 15 minute load averages, recorded with every figure.</summary>
    internal static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";
}
