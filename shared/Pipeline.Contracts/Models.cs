namespace Pipeline.Contracts;

/// <summary>
/// Training coordinator -> workers: a model version was promoted to "current" in the registry.
/// Workers verify the SHA-256 values against the files before switching, between jobs.
/// </summary>
/// <param name="ModelVersion">Version id, e.g. "cdae/7".</param>
/// <param name="Manifest">The version's manifest object in the models bucket.</param>
/// <param name="OnnxSha256">Lower-case hex SHA-256 of the version's model.onnx.</param>
/// <param name="WeightsSha256">Lower-case hex SHA-256 of the version's weights file.</param>
public sealed record ModelVersionPublished(
    string ModelVersion,
    ObjectRef Manifest,
    string OnnxSha256,
    string WeightsSha256) : IPipelineMessage
{
    public int ContractVersion { get; init; } = Contracts.ContractVersion.Current;
}
