namespace Pipeline.Contracts;

/// <summary>
/// Ingest -> denoise workers: denoise one complete series with one model version. Idempotent:
/// a worker that finds the completion marker for (series, model version) acknowledges and stops.
/// </summary>
/// <param name="StudyInstanceUid">Study Instance UID (0020,000D) of the source series.</param>
/// <param name="SeriesInstanceUid">Series Instance UID (0020,000E) of the source series.</param>
/// <param name="Instances">Source instances, ordered by slice position along the slice normal (else instance number).</param>
/// <param name="ModelVersion">Model version to apply, e.g. "cdae/1"; resolved in the model registry.</param>
/// <param name="Priority">Queue priority.</param>
/// <param name="Modality">Modality (0008,0060) of the series, e.g. "MR", "CT", "DX".</param>
/// <param name="Revision">Increases when late instances reopen a processed series; outputs of a
/// lower revision are replaced as a whole.</param>
/// <param name="SourceFingerprint">Identifies the exact source instance set (keys, SOP UIDs, ETags);
/// the worker copies it into the completion marker so ingest can tell "done" from "changed since".</param>
public sealed record DenoiseSeries(
    string StudyInstanceUid,
    string SeriesInstanceUid,
    IReadOnlyList<ObjectRef> Instances,
    string ModelVersion,
    JobPriority Priority,
    string Modality,
    int Revision = 1,
    string? SourceFingerprint = null) : IPipelineMessage
{
    public int ContractVersion { get; init; } = Contracts.ContractVersion.Current;
}

/// <summary>Ingest -> operators: a series was found but will not be denoised (e.g. colour, unsupported syntax).</summary>
/// <param name="StudyInstanceUid">Study Instance UID.</param>
/// <param name="SeriesInstanceUid">Series Instance UID.</param>
/// <param name="Reason">Human-readable, specific reason; contains no patient data.</param>
/// <param name="FailureRecord">The failure record written to the output bucket.</param>
public sealed record SeriesNotDenoisable(
    string StudyInstanceUid,
    string SeriesInstanceUid,
    string Reason,
    ObjectRef FailureRecord) : IPipelineMessage
{
    public int ContractVersion { get; init; } = Contracts.ContractVersion.Current;
}

/// <summary>Any stage -> operators: one object failed alone; the rest of its series goes on.</summary>
/// <param name="Source">The object that failed (input instance, or the job's first instance).</param>
/// <param name="Stage">Where it failed.</param>
/// <param name="Reason">Specific reason, e.g. "unsupported transfer syntax 1.2.840.10008.1.2.4.90 (JPEG 2000)"; no patient data.</param>
/// <param name="FailureRecord">The JSON failure record in the output bucket (the durable copy).</param>
/// <param name="StudyInstanceUid">Study UID if the header could be read.</param>
/// <param name="SeriesInstanceUid">Series UID if the header could be read.</param>
public sealed record InstanceFailed(
    ObjectRef Source,
    PipelineStage Stage,
    string Reason,
    ObjectRef FailureRecord,
    string? StudyInstanceUid = null,
    string? SeriesInstanceUid = null) : IPipelineMessage
{
    public int ContractVersion { get; init; } = Contracts.ContractVersion.Current;
}

/// <summary>
/// Ingest -> operators (and the embedded run): ingest has listed its whole input bucket and published a job for every
/// series that was complete by then. Sent after every full listing (at start, then every reconcile interval).
/// </summary>
/// <param name="InputBucket">The bucket that was listed.</param>
/// <param name="ObjectsListed">Objects the listing found.</param>
/// <param name="SeriesTracked">Series ingest knows of (published or waiting).</param>
/// <param name="SeriesWaiting">Series with changes not published yet (waiting for their quiet period or manifest).</param>
/// <param name="JobsPublished">Denoise jobs this ingest process has published since it started.</param>
/// <param name="CompletedAt">When the pass ended (UTC).</param>
public sealed record IngestPassCompleted(
    string InputBucket,
    int ObjectsListed,
    int SeriesTracked,
    int SeriesWaiting,
    int JobsPublished,
    DateTimeOffset CompletedAt) : IPipelineMessage
{
    public int ContractVersion { get; init; } = Contracts.ContractVersion.Current;
}
