using System.Security.Cryptography;
using System.Text.Json;

namespace Pipeline.Denoising.Models;

/// <summary>A model's files on disk could not be trusted (missing, or a hash differs from the manifest).</summary>
public sealed class ModelIntegrityException(string message) : Exception(message);

/// <summary>
/// A model folder: manifest.json, weights.safetensors and model.onnx. Writing computes the
/// hashes into the manifest; loading recomputes them and refuses any mismatch.
/// </summary>
public sealed class ModelFolder
{
    public const string ManifestFile = "manifest.json";
    public const string WeightsFile = "weights.safetensors";
    public const string OnnxFile = "model.onnx";

    private ModelFolder(string path, ModelManifest manifest, byte[] onnx)
    {
        Path = path;
        Manifest = manifest;
        Onnx = onnx;
    }

    public string Path { get; }

    public ModelManifest Manifest { get; }

    /// <summary>The verified ONNX model bytes.</summary>
    public byte[] Onnx { get; }

    public string WeightsPath => System.IO.Path.Combine(Path, Manifest.Files.Weights.Path);

    /// <summary>Writes the three files; the manifest's <see cref="ModelManifest.Files"/> is filled in here.</summary>
    public static ModelManifest Write(string folder, ModelManifest manifest, string weightsSource, byte[] onnx)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        Directory.CreateDirectory(folder);
        var weightsTarget = System.IO.Path.Combine(folder, WeightsFile);
        if (!string.Equals(System.IO.Path.GetFullPath(weightsSource), System.IO.Path.GetFullPath(weightsTarget), StringComparison.Ordinal))
            File.Copy(weightsSource, weightsTarget, overwrite: true);
        File.WriteAllBytes(System.IO.Path.Combine(folder, OnnxFile), onnx);
        var complete = manifest with
        {
            Files = new ModelFiles(new FileDigest(WeightsFile, Sha256(File.ReadAllBytes(weightsTarget))),
                new FileDigest(OnnxFile, Sha256(onnx))),
        };
        // Manifest last: a folder with a manifest is complete.
        File.WriteAllText(System.IO.Path.Combine(folder, ManifestFile), JsonSerializer.Serialize(complete, ModelManifest.Json) + "\n");
        return complete;
    }

    /// <summary>Reads a model folder, verifying both files against the manifest's SHA-256.</summary>
    public static ModelFolder Load(string folder)
    {
        var manifestPath = System.IO.Path.Combine(folder, ManifestFile);
        if (!File.Exists(manifestPath))
            throw new ModelIntegrityException($"No {ManifestFile} in model folder '{folder}'.");
        ModelManifest manifest;
        try
        {
            manifest = JsonSerializer.Deserialize<ModelManifest>(File.ReadAllText(manifestPath), ModelManifest.Json)
                ?? throw new ModelIntegrityException($"{manifestPath} is empty.");
        }
        catch (JsonException e)
        {
            throw new ModelIntegrityException($"{manifestPath} is not a valid model manifest: {e.Message}");
        }
        if (manifest.Format != ModelManifest.CurrentFormat)
            throw new ModelIntegrityException($"{manifestPath} has format {manifest.Format}; this build reads {ModelManifest.CurrentFormat}.");
        manifest.Architecture.Validate();
        Verify(folder, manifest.Files.Weights);
        var onnx = Verify(folder, manifest.Files.Onnx);
        return new ModelFolder(folder, manifest, onnx);
    }

    public static string Sha256(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    private static byte[] Verify(string folder, FileDigest digest)
    {
        if (digest.Path.Contains('/') || digest.Path.Contains('\\') || digest.Path.StartsWith('.'))
            throw new ModelIntegrityException($"Manifest names file '{digest.Path}' outside the model folder.");
        var path = System.IO.Path.Combine(folder, digest.Path);
        if (!File.Exists(path))
            throw new ModelIntegrityException($"Model file '{path}' is missing.");
        var bytes = File.ReadAllBytes(path);
        var actual = Sha256(bytes);
        if (!string.Equals(actual, digest.Sha256, StringComparison.OrdinalIgnoreCase))
            throw new ModelIntegrityException(
                $"Model file '{path}' does not match its manifest: SHA-256 is {actual}, manifest says {digest.Sha256}. Refusing to load a modified or corrupt model.");
        return bytes;
    }
}
