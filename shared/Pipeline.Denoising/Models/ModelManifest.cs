using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Pipeline.Denoising.Architectures;

namespace Pipeline.Denoising.Models;

/// <summary>Everything needed to use and to trust a trained model: manifest.json beside its files.</summary>
public sealed record ModelManifest
{
    public const int CurrentFormat = 1;

    public int Format { get; init; } = CurrentFormat;

    /// <summary>Registry version id (e.g. "20261125T021500Z-1a2b3c4d"); empty until published.</summary>
    public string Version { get; init; } = "";

    public required ArchitectureSpec Architecture { get; init; }

    public required NormalisationSpec Normalisation { get; init; }

    public required NoiseSpec Noise { get; init; }

    public required TrainingRecord Training { get; init; }

    /// <summary>Held-out figures measured at the end of training (null for an untrained export).</summary>
    public ValidationRecord? Validation { get; init; }

    public required ModelFiles Files { get; init; }

    /// <summary>
    /// <see cref="Version"/>, or for an unpublished model the first 12 hex digits of its ONNX hash: what names the
    /// model in derived UIDs either way. A method, so it stays out of manifest.json.
    /// </summary>
    public string VersionOrOnnxHash() => string.IsNullOrEmpty(Version) ? Files.Onnx.Sha256[..12] : Version;

    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };
}

/// <summary>
/// The per-series intensity mapping the model was trained with (Pipeline.Imaging's robust
/// percentile window of the noisy input, inverted exactly on output).
/// </summary>
public sealed record NormalisationSpec(string Method, double LowPercentile, double HighPercentile)
{
    public const string RobustPercentile = "robust-percentile";

    public static NormalisationSpec Default { get; } = new(RobustPercentile, 0.5, 99.5);

    public Imaging.Normalisation.NormalisationOptions ToOptions()
    {
        if (Method != RobustPercentile)
            throw new NotSupportedException($"Normalisation '{Method}' is not supported by this build.");
        return new(LowPercentile, HighPercentile);
    }
}

/// <summary>The noise the model learned to remove: types, level range (fraction of the data range), intensity scalings.</summary>
public sealed record NoiseSpec(IReadOnlyList<string> Types, double MinLevel, double MaxLevel, double DataRange,
    double MinPeak, double MaxPeak);

/// <summary>Where the model came from and how long it took.</summary>
public sealed record TrainingRecord
{
    /// <summary>"supervised" (clean + synthetic noise), or from noisy data only: "noise2void" (blind-spot masking) or "neighbor2neighbor".</summary>
    public required string Mode { get; init; }
    public required IReadOnlyList<DataLineage> Data { get; init; }
    public int Seed { get; init; }
    public int Steps { get; init; }
    public int BestStep { get; init; }
    public double Seconds { get; init; }
    public int PatchSize { get; init; }
    public int BatchSize { get; init; }
    public double LearningRate { get; init; }
    public double SsimWeight { get; init; }

    /// <summary>"uniform" MSE, or "noise-relative" (each patch's error divided by its noise variance).</summary>
    public string LossWeighting { get; init; } = "uniform";

    /// <summary>Whether the loss scored the output clamped at the series' floor, as inference delivers it.</summary>
    public bool ClampAtFloor { get; init; }

    /// <summary>The model whose weights this run started from (fine-tuning); null = random initialisation.</summary>
    public InitialWeights? InitialModel { get; init; }

    public string Command { get; init; } = "";
    public DateTimeOffset FinishedAt { get; init; }
}

/// <summary>Where fine-tuning started: the model version and the SHA-256 of its weights file.</summary>
public sealed record InitialWeights(string Version, string WeightsSha256);

/// <summary>One input of training: file, its SHA-256, the slice range used and its role (train/validation).</summary>
public sealed record DataLineage(string Source, string Sha256, string Role, int FirstSlice, int LastSlice)
{
    /// <summary>
    /// The lineage SHA-256 of a file, or for a folder (its own files, not subfolders': the files a DICOM series folder is
    /// read from) of the lines "file name, SHA-256 of the file" in ordinal order, so renaming or changing any file changes it.
    /// </summary>
    public static string Sha256Of(string path)
    {
        if (!Directory.Exists(path))
            return ModelFolder.Sha256(File.ReadAllBytes(path));
        var lines = new StringBuilder();
        foreach (var file in Directory.EnumerateFiles(path).Order(StringComparer.Ordinal))
            lines.Append(Path.GetFileName(file)).Append(' ').Append(ModelFolder.Sha256(File.ReadAllBytes(file))).Append('\n');
        return ModelFolder.Sha256(Encoding.UTF8.GetBytes(lines.ToString()));
    }
}

/// <summary>Validation figures: the model's PSNR/SSIM next to the noisy input's, per level and overall.</summary>
public sealed record ValidationRecord(double Loss, double Psnr, double Ssim, double NoisyPsnr, double NoisySsim,
    IReadOnlyList<LevelFigures> Levels);

/// <summary>Figures at one noise level and intensity scaling.</summary>
public sealed record LevelFigures(string Noise, double Peak, double NoisyPsnr, double NoisySsim, double Psnr, double Ssim);

/// <summary>The model's files and their SHA-256 (lower-case hex), checked on every load.</summary>
public sealed record ModelFiles(FileDigest Weights, FileDigest Onnx);

public sealed record FileDigest(string Path, string Sha256);
