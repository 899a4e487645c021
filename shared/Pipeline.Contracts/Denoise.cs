namespace Pipeline.Contracts;

/// <summary>
/// Denoise worker -> evaluation: a derived series was written and its completion marker exists.
/// </summary>
/// <param name="StudyInstanceUid">Study Instance UID (shared by source and derived series).</param>
/// <param name="SourceSeriesInstanceUid">Series Instance UID of the input series.</param>
/// <param name="DerivedSeriesInstanceUid">Series Instance UID of the derived (denoised) series.</param>
/// <param name="ModelVersion">Model version that produced it.</param>
/// <param name="Instances">Pairs of source and derived instances, in slice order.</param>
/// <param name="CompletionMarker">The marker object (written last) that makes the series "done".</param>
/// <param name="FailedInstances">How many source instances failed alone (see their failure records).</param>
/// <param name="Revision">The job revision this output belongs to.</param>
public sealed record SeriesDenoised(
    string StudyInstanceUid,
    string SourceSeriesInstanceUid,
    string DerivedSeriesInstanceUid,
    string ModelVersion,
    IReadOnlyList<DenoisedInstance> Instances,
    ObjectRef CompletionMarker,
    int FailedInstances,
    int Revision = 1) : IPipelineMessage
{
    public int ContractVersion { get; init; } = Contracts.ContractVersion.Current;
}

/// <summary>One source instance and the derived instance written from it.</summary>
public sealed record DenoisedInstance(ObjectRef Source, ObjectRef Derived);
