using System.ComponentModel;
using System.Text.Json;
using Pipeline.Denoising.Architectures;
using Pipeline.Denoising.Export;
using Pipeline.Denoising.Inference;
using Pipeline.Denoising.Models;
using Pipeline.Denoising.Training.Inference;
using Pipeline.Denoising.Training.Networks;
using Spectre.Console;
using Spectre.Console.Cli;
using TorchSharp;

namespace Pipeline.Cli.Commands.Bench;

/// <summary>
/// `pipeline bench inference`: sustained slices/s of one engine on batches of random slices, with seeded random
/// weights of an architecture (or a model folder's weights); prints engine, device, slices_per_s, gflop_per_slice,
/// gflops, peak_rss_mb (one engine per process, so the peak RSS is that engine's).
/// </summary>
internal sealed class InferenceBenchCommand : Command<InferenceBenchCommand.Settings>
{
    internal sealed class Settings : CommandSettings
    {
        [CommandOption("--arch <NAME>"), Description("cdae (default), dncnn or unet")]
        public string Architecture { get; init; } = ArchitectureSpec.Cdae;

        [CommandOption("--model <DIR>"), Description("Use this model folder's network instead of seeded random weights")]
        public string? Model { get; init; }

        [CommandOption("--size <N>")] public int Size { get; init; } = 256;
        [CommandOption("--batch <B>")] public int Batch { get; init; } = 8;
        [CommandOption("--threads <T>")] public int Threads { get; init; } = 2;
        [CommandOption("--seconds <S>")] public double Seconds { get; init; } = 10;

        [CommandOption("--engine <NAME>"), Description("onnxruntime (default) or torchsharp")]
        public string Engine { get; init; } = EngineOptions.OnnxRuntime;

        [CommandOption("--json")] public bool Json { get; init; }

        public override ValidationResult Validate() =>
            Size < 4 || Batch < 1 || Threads < 0 || !(Seconds > 0) ? ValidationResult.Error("--size >= 4, --batch >= 1, --threads >= 0 and --seconds > 0")
            : Engine is not (EngineOptions.OnnxRuntime or EngineOptions.TorchSharp) ? ValidationResult.Error("--engine is onnxruntime or torchsharp")
            : ValidationResult.Success();
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        NativeAllocator.KeepFreedMemory();
        var options = new EngineOptions { Engine = settings.Engine, Threads = settings.Threads, Device = DevicePreference.Auto };
        using var engine = settings.Model is { } folder ? Model.ModelEngines.Open(ModelFolder.Load(folder), options).Engine : RandomEngine(settings, options);
        var figures = EngineThroughput.Measure(engine, settings.Size, settings.Batch, TimeSpan.FromSeconds(settings.Seconds));
        if (!settings.Json)
        {
            // Plain console: one unwrapped key-value line that scripts can read.
            Console.WriteLine($"arch {engine.Architecture.Name}, {settings.Size}x{settings.Size}, batch {settings.Batch}");
            Console.WriteLine(figures.ToString());
            return 0;
        }
        Console.WriteLine(JsonSerializer.Serialize(new
        {
            engine = figures.Engine,
            device = figures.Device,
            arch = engine.Architecture.Name,
            size = figures.Size,
            batch = figures.Batch,
            slices_per_s = Math.Round(figures.SlicesPerSecond, 2),
            gflop_per_slice = Math.Round(figures.GflopPerSlice, 4),
            gflops = Math.Round(figures.Gflops, 2),
            peak_rss_mb = Math.Round(figures.PeakRssMb),
        }));
        return 0;
    }

    private static IDenoisingEngine RandomEngine(Settings settings, EngineOptions options)
    {
        var spec = ArchitectureSpec.ByName(settings.Architecture);
        torch.manual_seed(1);
        var network = DenoisingNetwork.Create(spec);
        if (settings.Engine == EngineOptions.TorchSharp)
            return new TorchSharpEngine(network, options);
        using (network)
            return new OnnxRuntimeEngine(OnnxExporter.Export(spec, network.Weights()), spec, options);
    }
}
