namespace Pipeline.Contracts;

/// <summary>
/// Where the pipeline puts things in the object store. Keys are stable and deterministic, so re-running
/// a job rewrites the same objects. Inputs are never modified or deleted.
/// <code>
/// {output}/studies/{study}/series/{series}/models/{model version}/
///     instances/r{revision}/{derived SOP Instance UID}.dcm   the derived (denoised) instances of one revision
///     complete.json                              completion marker, written LAST; names the revision
///     report.json, montage.png                   evaluation outputs
/// {output}/failures/{stage}/{source bucket}/{source key}.json   one record per failed object
/// {output}/failures/unusable-keys/{stage}/{source bucket}/{SHA-256 of source key}.json   the same, for a source key
///     that cannot be part of a key (control characters, '..', too long): the record still names it in Source
/// {output}/references/{study}/{series}.json      clean reference registered for a source series
/// {output}/model-scores/{candidate model version}/{request id}.json   a candidate-vs-baseline scoring report
/// {output}/report.html                           the morning report of an embedded run (`pipeline run`)
/// {output}/batches/{name}/batch.json, report.html   a batch's record and, once it finished, its morning report
/// </code>
/// A model version is "{model name}/{version}", e.g. "denoiser/1", so it spans two key segments.
/// A reopened series is written under a new revision folder and becomes visible as a whole when its
/// marker replaces the old one; the older revision's instances are deleted after that.
/// </summary>
public static class BucketLayout
{
    /// <summary>Folder of every failure record (ends with '/').</summary>
    public const string FailuresFolder = "failures/";

    private const string StudiesFolder = "studies/";
    private const string CompletionMarkerName = "complete.json";

    /// <summary>Folder of one series' outputs for one model version (ends with '/').</summary>
    public static string SeriesOutputFolder(string studyUid, string seriesUid, string modelVersion) =>
        $"{StudiesFolder}{studyUid}/series/{seriesUid}/models/{modelVersion}/";

    /// <summary>Folder of all revisions' derived instances (ends with '/').</summary>
    public static string DerivedInstancesFolder(string studyUid, string seriesUid, string modelVersion) =>
        SeriesOutputFolder(studyUid, seriesUid, modelVersion) + "instances/";

    /// <summary>Folder of one revision's derived instances (ends with '/').</summary>
    public static string RevisionFolder(string studyUid, string seriesUid, string modelVersion, int revision) =>
        DerivedInstancesFolder(studyUid, seriesUid, modelVersion) + $"r{revision}/";

    /// <summary>
    /// Whether a key of the output bucket (e.g. from a listing) is a derived instance; if so, the series output folder it
    /// belongs to (<see cref="SeriesOutputFolder"/>) and its revision.
    /// </summary>
    public static bool TryParseDerivedInstance(string key, out string seriesOutputFolder, out int revision)
    {
        (seriesOutputFolder, revision) = ("", 0);
        const string instances = "/instances/r";
        var at = key.LastIndexOf(instances, StringComparison.Ordinal);
        if (!key.StartsWith(StudiesFolder, StringComparison.Ordinal) || at < 0) return false;
        var rest = key.AsSpan(at + instances.Length);
        var slash = rest.IndexOf('/');
        if (slash <= 0 || !int.TryParse(rest[..slash], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out revision))
            return false;
        seriesOutputFolder = key[..(at + 1)];
        return true;
    }

    /// <summary>The series output folder of a completion marker's key (see <see cref="IsCompletionMarker"/>).</summary>
    public static string SeriesOutputFolderOfMarker(string markerKey) => markerKey[..^CompletionMarkerName.Length];

    /// <summary>Key of a derived instance of one revision.</summary>
    public static string DerivedInstance(string studyUid, string seriesUid, string modelVersion, int revision, string derivedSopInstanceUid) =>
        RevisionFolder(studyUid, seriesUid, modelVersion, revision) + $"{derivedSopInstanceUid}.dcm";

    /// <summary>Key of the completion marker: the series is done for this model version when it exists.</summary>
    public static string CompletionMarker(string studyUid, string seriesUid, string modelVersion) =>
        SeriesOutputFolder(studyUid, seriesUid, modelVersion) + CompletionMarkerName;

    /// <summary>Whether a key of the output bucket (e.g. from a listing) is a completion marker.</summary>
    public static bool IsCompletionMarker(string key) =>
        key.StartsWith(StudiesFolder, StringComparison.Ordinal) && key.EndsWith("/" + CompletionMarkerName, StringComparison.Ordinal);

    /// <summary>Key of the evaluation report.</summary>
    public static string Report(string studyUid, string seriesUid, string modelVersion) =>
        SeriesOutputFolder(studyUid, seriesUid, modelVersion) + "report.json";

    /// <summary>Key of the before/after/difference montage.</summary>
    public static string Montage(string studyUid, string seriesUid, string modelVersion) =>
        SeriesOutputFolder(studyUid, seriesUid, modelVersion) + "montage.png";

    /// <summary>
    /// Key of the <see cref="CleanReference"/> registered for a source series (benchmark and validation studies):
    /// when it exists, evaluation adds full-reference metrics of the input and of the output against it.
    /// </summary>
    public static string Reference(string studyUid, string sourceSeriesUid) =>
        $"references/{studyUid}/{sourceSeriesUid}.json";

    /// <summary>Key of the morning report (static HTML) of an embedded run: at the top of its output folder.</summary>
    public const string RunReport = "report.html";

    /// <summary>Folder of every batch's record and report (ends with '/').</summary>
    public const string BatchesFolder = "batches/";

    /// <summary>Key of a batch's <see cref="BatchRecord"/> (the name is checked by <see cref="BatchNames.IsValid"/>).</summary>
    public static string Batch(string name) => $"{BatchesFolder}{name}/batch.json";

    /// <summary>Key of a batch's morning report, written when it finishes.</summary>
    public static string BatchReport(string name) => $"{BatchesFolder}{name}/report.html";

    /// <summary>Key of the report answering one <see cref="EvaluationRequested"/> (request id as 32 hex digits).</summary>
    public static string ModelScore(string candidateModelVersion, Guid requestId) =>
        $"model-scores/{candidateModelVersion}/{requestId:N}.json";

    /// <summary>Key of the failure record for one source object at one stage, named after the source key (which the
    /// caller has to check is a usable key, else <see cref="FailureRecordOfUnusableKey"/>).</summary>
    public static string FailureRecord(PipelineStage stage, ObjectRef source) =>
        $"{FailuresFolder}{StageFolder(stage)}/{source.Bucket}/{source.Key}.json";

    /// <summary>Key of the failure record for a source object whose key cannot be part of another key: named by the
    /// key's SHA-256, in a folder no stage uses, so it can collide with no readable record.</summary>
    public static string FailureRecordOfUnusableKey(PipelineStage stage, ObjectRef source) =>
        $"{FailuresFolder}unusable-keys/{StageFolder(stage)}/{source.Bucket}/"
        + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(source.Key))) + ".json";

    private static string StageFolder(PipelineStage stage) => stage.ToString().ToLowerInvariant();

    /// <summary>Whether a key of the output bucket (e.g. from a listing) is a failure record.</summary>
    public static bool IsFailureRecord(string key) =>
        key.StartsWith(FailuresFolder, StringComparison.Ordinal) && key.EndsWith(".json", StringComparison.Ordinal);
}

/// <summary>
/// The JSON document written at <see cref="BucketLayout.FailureRecord"/>: what failed, where, why.
/// Contains no patient data (UIDs only).
/// </summary>
/// <param name="Source">The object that failed.</param>
/// <param name="Stage">Pipeline stage.</param>
/// <param name="Reason">Specific, human-readable reason.</param>
/// <param name="ErrorType">Exception type name, for grouping on dashboards.</param>
/// <param name="OccurredAt">When it failed (UTC).</param>
/// <param name="Attempts">How many times it failed: a later failure of the same object and stage replaces the record and counts on.</param>
/// <param name="StudyInstanceUid">Study UID when known.</param>
/// <param name="SeriesInstanceUid">Series UID when known.</param>
/// <param name="ModelVersion">Model version when the failure is model-specific.</param>
public sealed record FailureRecord(
    ObjectRef Source,
    PipelineStage Stage,
    string Reason,
    string ErrorType,
    DateTimeOffset OccurredAt,
    int Attempts = 1,
    string? StudyInstanceUid = null,
    string? SeriesInstanceUid = null,
    string? ModelVersion = null)
{
    public int ContractVersion { get; init; } = Contracts.ContractVersion.Current;

    /// <summary>
    /// When an operator last asked for a retry (`pipeline jobs retry`); kept when the retry fails again. The record stays as
    /// history after a successful retry (until its retention lifetime), so it says the object was retried.
    /// </summary>
    public DateTimeOffset? RetriedAt { get; init; }
}

/// <summary>
/// The completion marker at <see cref="BucketLayout.CompletionMarker"/>, written LAST by the denoise
/// worker: its presence means every derived instance of this revision is in place.
/// </summary>
/// <param name="StudyInstanceUid">Study UID.</param>
/// <param name="SeriesInstanceUid">Source series UID.</param>
/// <param name="DerivedSeriesInstanceUid">Derived series UID.</param>
/// <param name="ModelVersion">Model version used.</param>
/// <param name="Revision">Job revision (see <see cref="DenoiseSeries.Revision"/>).</param>
/// <param name="SourceFingerprint">Copied from the job.</param>
/// <param name="Instances">Source and derived instances, in slice order.</param>
/// <param name="FailedInstances">Source instances that failed alone (each has a failure record).</param>
/// <param name="CompletedAt">When the marker was written.</param>
/// <param name="Timings">Seconds per step of the job ("model", "fetch", "wait" for the engine, "decode", "denoise" on the engine, "derive", "write").</param>
/// <param name="Metrics">Series-level summary figures, when computed.</param>
public sealed record SeriesCompletion(
    string StudyInstanceUid,
    string SeriesInstanceUid,
    string DerivedSeriesInstanceUid,
    string ModelVersion,
    int Revision,
    string? SourceFingerprint,
    IReadOnlyList<DenoisedInstance> Instances,
    IReadOnlyList<ObjectRef> FailedInstances,
    DateTimeOffset CompletedAt,
    IReadOnlyDictionary<string, double> Timings,
    IReadOnlyDictionary<string, double>? Metrics = null)
{
    public int ContractVersion { get; init; } = Contracts.ContractVersion.Current;
}

/// <summary>
/// The JSON document at <see cref="BucketLayout.Reference"/>: the clean instances of the anatomy a source series shows
/// (e.g. the clean original that synthetic noise was added to). Evaluation pairs each source instance with the reference
/// instance at the same slice position, else with the same Instance Number; the order of the list does not matter.
/// Example: <c>{"Instances": [{"Bucket": "references", "Key": "colin27/t1/0001.dcm"}, ...]}</c> (names are case-insensitive).
/// </summary>
/// <param name="Instances">The clean reference instances (any bucket).</param>
public sealed record CleanReference(IReadOnlyList<ObjectRef> Instances)
{
    public int ContractVersion { get; init; } = Contracts.ContractVersion.Current;
}
