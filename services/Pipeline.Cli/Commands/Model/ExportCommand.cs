using System.ComponentModel;
using System.Text.Json;
using Pipeline.Denoising.Export;
using Pipeline.Denoising.Models;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Pipeline.Cli.Commands.Model;

/// <summary>`pipeline model export DIR`: rebuilds model.onnx from weights.safetensors (no libtorch needed).</summary>
internal sealed class ExportCommand : Command<ExportCommand.Settings>
{
    internal sealed class Settings : CommandSettings
    {
        [CommandArgument(0, "<MODEL_DIR>"), Description("Model folder with manifest.json and weights.safetensors")]
        public string Folder { get; init; } = "";
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var manifestPath = Path.Combine(settings.Folder, ModelFolder.ManifestFile);
        var manifest = JsonSerializer.Deserialize<ModelManifest>(File.ReadAllText(manifestPath), ModelManifest.Json)
            ?? throw new InvalidDataException($"{manifestPath} is empty.");
        var weightsPath = Path.Combine(settings.Folder, manifest.Files.Weights.Path);
        var onnx = OnnxExporter.Export(manifest.Architecture, Safetensors.Read(weightsPath));
        var written = ModelFolder.Write(settings.Folder, manifest, weightsPath, onnx);
        AnsiConsole.MarkupLineInterpolated($"exported {settings.Folder}/{ModelFolder.OnnxFile} (opset {OnnxExporter.Opset}, sha256 {written.Files.Onnx.Sha256[..12]}...)");
        return 0;
    }
}
