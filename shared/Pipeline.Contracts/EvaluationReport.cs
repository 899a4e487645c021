using System.Text.Json;
using System.Text.Json.Serialization;

namespace Pipeline.Contracts;

/// <summary>
/// The JSON report at <see cref="BucketLayout.Report"/>. It holds UIDs and object references but no patient data and
/// no wall-clock time, so evaluating the same series again writes the same bytes.
/// </summary>
/// <param name="DataRange">R of PSNR and SSIM: 2^BitsStored - 1 of the (first readable) source instance.</param>
/// <param name="Series">Plain means of the instance figures (reference figures over matched instances only).</param>
/// <param name="Reference">The registered clean reference, when there is one.</param>
/// <param name="Instances">One entry per source/derived pair, in slice order; failed pairs carry their reason.</param>
/// <param name="Montage">The PNG montage, when one was drawn.</param>
public sealed record EvaluationReport(
    string StudyInstanceUid,
    string SourceSeriesInstanceUid,
    string DerivedSeriesInstanceUid,
    string ModelVersion,
    int Revision,
    string? Modality,
    double? DataRange,
    int InstancesEvaluated,
    int InstancesFailed,
    QualityFigures? Series,
    ReferenceSummary? Reference,
    IReadOnlyList<InstanceReport> Instances,
    MontageSummary? Montage)
{
    public int ContractVersion { get; init; } = Contracts.ContractVersion.Current;

    /// <summary>snake_case names, PSNR of identical images written as "Infinity", absent figures left out.</summary>
    public static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        WriteIndented = true,
    };
}

/// <summary>
/// Quality figures of one instance (means over its frames) or of a series (means over instances). Noise sigmas are in
/// modality units (after rescale); "fidelity" compares output to input; "reference" compares input or output to the
/// registered clean reference; gains are output minus input.
/// </summary>
public sealed record QualityFigures(
    double NoiseSigmaInput,
    double NoiseSigmaOutput,
    double PsnrFidelity,
    double SsimFidelity,
    double? MseReferenceInput = null,
    double? PsnrReferenceInput = null,
    double? SsimReferenceInput = null,
    double? MseReferenceOutput = null,
    double? PsnrReferenceOutput = null,
    double? SsimReferenceOutput = null,
    double? PsnrReferenceGain = null,
    double? SsimReferenceGain = null)
{
    /// <summary>The finite figures by their report names (e.g. "psnr_fidelity"), for EvaluationCompleted.Summary.</summary>
    public IEnumerable<KeyValuePair<string, double>> Named() =>
        JsonSerializer.SerializeToElement(this, EvaluationReport.Json).EnumerateObject()
            .Where(p => p.Value.ValueKind == JsonValueKind.Number)
            .Select(p => KeyValuePair.Create(p.Name, p.Value.GetDouble()));
}

/// <summary>One source/derived pair.</summary>
/// <param name="SopInstanceUid">Source SOP Instance UID, when the source could be read.</param>
/// <param name="Frames">Frames evaluated.</param>
/// <param name="Figures">Null when the pair failed.</param>
/// <param name="Reference">The reference instance it was compared with.</param>
/// <param name="ReferenceProblem">Why a registered reference gave no figures for it.</param>
/// <param name="Failure">Why the pair could not be evaluated (e.g. the derived object is not DICOM).</param>
public sealed record InstanceReport(
    ObjectRef Source,
    ObjectRef Derived,
    string? SopInstanceUid = null,
    int? Frames = null,
    QualityFigures? Figures = null,
    ObjectRef? Reference = null,
    string? ReferenceProblem = null,
    string? Failure = null);

/// <summary>The registered clean reference as evaluation found it.</summary>
/// <param name="Registration">The <see cref="CleanReference"/> document.</param>
/// <param name="MatchedBy">"position" or "instance-number" (null when nothing could be matched).</param>
/// <param name="InstancesMatched">Source instances that got reference figures.</param>
/// <param name="Problem">Why the registration could not be used at all.</param>
/// <param name="Unreadable">Reference instances that could not be read, with the reason.</param>
public sealed record ReferenceSummary(
    ObjectRef Registration,
    string? MatchedBy,
    int InstancesMatched,
    string? Problem,
    IReadOnlyList<ObjectProblem> Unreadable);

/// <summary>An object and what was wrong with it.</summary>
public sealed record ObjectProblem(ObjectRef Object, string Reason);

/// <summary>The montage image and the positions (in the report's instance list) of the slices it shows.</summary>
public sealed record MontageSummary(ObjectRef Image, IReadOnlyList<int> Instances);
