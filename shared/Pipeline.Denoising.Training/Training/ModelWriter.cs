using Pipeline.Denoising.Export;
using Pipeline.Denoising.Models;
using Pipeline.Denoising.Training.Networks;

namespace Pipeline.Denoising.Training.Training;

/// <summary>Writes a trained network as a model folder: safetensors weights, exported ONNX, manifest with hashes.</summary>
public static class ModelWriter
{
    public static ModelManifest Write(string folder, TrainingResult result, TrainingOptions options, IReadOnlyList<DataLineage> data,
        string command = "")
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(options);
        Directory.CreateDirectory(folder);
        var weightsPath = Path.Combine(folder, ModelFolder.WeightsFile);
        result.Network.SaveSafetensors(weightsPath);
        var onnx = OnnxExporter.Export(options.Architecture, result.Network.Weights());
        var finishedAt = DateTimeOffset.UtcNow;
        var manifest = new ModelManifest
        {
            Version = ModelRegistryLayout.NewVersion(finishedAt, ModelFolder.Sha256(onnx)),
            Architecture = options.Architecture,
            Normalisation = NormalisationSpec.Default,
            Noise = new NoiseSpec(options.NoiseTypes, options.MinLevel, options.MaxLevel, options.DataRange, options.MinPeak, options.MaxPeak),
            Training = new TrainingRecord
            {
                Mode = options.Mode,
                Data = data,
                Seed = options.Seed,
                Steps = result.Steps,
                BestStep = result.BestStep,
                Seconds = Math.Round(result.Elapsed.TotalSeconds, 1),
                PatchSize = options.PatchSize,
                BatchSize = options.BatchSize,
                LearningRate = options.LearningRate,
                SsimWeight = options.SsimWeight,
                LossWeighting = options.LossWeighting,
                ClampAtFloor = options.ClampAtFloor,
                InitialModel = result.InitialModel,
                Command = command,
                FinishedAt = finishedAt,
            },
            Validation = result.Validation,
            Files = new ModelFiles(new FileDigest(ModelFolder.WeightsFile, ""), new FileDigest(ModelFolder.OnnxFile, "")),
        };
        return ModelFolder.Write(folder, manifest, weightsPath, onnx);
    }
}
