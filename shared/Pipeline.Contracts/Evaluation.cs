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
