namespace Pipeline.Contracts;

/// <summary>Training coordinator -> evaluation: score a candidate model against the current one on a held-out set.</summary>
/// <param name="CandidateModelVersion">Model version being considered for promotion.</param>
/// <param name="BaselineModelVersion">Current model version (null when there is none yet).</param>
/// <param name="HeldOutSet">Manifest object listing the held-out clean series and the noise to apply.</param>
/// <param name="RequestId">Correlates the reply.</param>
public sealed record EvaluationRequested(
    string CandidateModelVersion,
    string? BaselineModelVersion,
    ObjectRef HeldOutSet,
    Guid RequestId) : IPipelineMessage
{
    public int ContractVersion { get; init; } = Contracts.ContractVersion.Current;
}

/// <summary>Evaluation -> anyone: a report was written for a series (or for a candidate comparison).</summary>
/// <param name="StudyInstanceUid">Study UID (null for a model comparison).</param>
/// <param name="SeriesInstanceUid">Source series UID (null for a model comparison).</param>
/// <param name="ModelVersion">Model version evaluated.</param>
/// <param name="Report">JSON report object.</param>
/// <param name="Montage">PNG before/after/difference montage, when one was drawn.</param>
/// <param name="Summary">Series-level figures (names as in the report, e.g. "noise_sigma_input", "psnr_fidelity").</param>
/// <param name="RequestId">Set when answering an <see cref="EvaluationRequested"/>.</param>
public sealed record EvaluationCompleted(
    string? StudyInstanceUid,
    string? SeriesInstanceUid,
    string ModelVersion,
    ObjectRef Report,
    ObjectRef? Montage,
    IReadOnlyDictionary<string, double> Summary,
    Guid? RequestId = null) : IPipelineMessage
{
    public int ContractVersion { get; init; } = Contracts.ContractVersion.Current;
}

/// <summary>
/// The JSON document an <see cref="EvaluationRequested.HeldOutSet"/> points to: one clean volume that no model trained on,
/// and the noise to score at. Give either <see cref="Volume"/> (a NIfTI-1 object, .nii or .nii.gz) or <see cref="Instances"/>
/// (the clean DICOM instances of one series, any order). The quality protocol of the denoising library does the rest
/// (test slices from the top of the volume, "dim" and "bright" scalings, seeded noise, PSNR/SSIM at data range 4095).
/// </summary>
/// <param name="Name">Name of the set, for the report (e.g. "colin27-ch2better-top20").</param>
/// <param name="Volume">Clean NIfTI volume.</param>
/// <param name="Instances">Clean DICOM instances of one series.</param>
/// <param name="Noise">Noise specs, e.g. ["rician:0.05", "rician:0.1"] (level = fraction of the data range); default the
/// protocol's Rician 5, 10, 15 and 20 %.</param>
/// <param name="SliceCount">Scored slices (protocol default 12).</param>
/// <param name="Seed">Noise seed (protocol default 1).</param>
public sealed record HeldOutSet(
    string Name,
    ObjectRef? Volume = null,
    IReadOnlyList<ObjectRef>? Instances = null,
    IReadOnlyList<string>? Noise = null,
    int? SliceCount = null,
    int? Seed = null)
{
    public int ContractVersion { get; init; } = Contracts.ContractVersion.Current;
}
