namespace Pipeline.Denoising.Models;

/// <summary>
/// Object keys of the model registry in the "models" bucket (see shared/Pipeline.Registry/README.md):
/// {name}/versions/{version}/{manifest.json|weights.safetensors|model.onnx}, the pointer {name}/current.json naming the
/// promoted version, {name}/rejected/{version}.json marking a version the gate or an operator turned down, and
/// {name}/runs/{run id}.json, one decision record per training run. Versions are immutable once written. The training
/// coordinator's working objects: {name}/training/lease.json (who trains now) and {name}/training/{run id}/ (the running
/// run's plan and checkpoint, removed when the run ends).
/// </summary>
public static class ModelRegistryLayout
{
    public const string CurrentPointer = "current.json";

    /// <summary>Folder of every version of a model (ends with '/').</summary>
    public static string VersionsPrefix(string name) => $"{Segment(name)}/versions/";

    public static string VersionPrefix(string name, string version) => VersionsPrefix(name) + $"{Segment(version)}/";

    /// <summary>The rejection mark of a version (its presence makes the version "rejected").</summary>
    public static string RejectionKey(string name, string version) => RejectionsPrefix(name) + $"{Segment(version)}.json";

    /// <summary>Folder of a model's rejection marks (ends with '/').</summary>
    public static string RejectionsPrefix(string name) => $"{Segment(name)}/rejected/";

    /// <summary>Folder of the decision records of a model's training runs (ends with '/').</summary>
    public static string DecisionsPrefix(string name) => $"{Segment(name)}/runs/";

    /// <summary>The decision record of one training run.</summary>
    public static string DecisionKey(string name, string runId) => DecisionsPrefix(name) + $"{Segment(runId)}.json";

    /// <summary>The training lease: at most one coordinator trains a model at a time.</summary>
    public static string TrainingLeaseKey(string name) => $"{Segment(name)}/training/lease.json";

    /// <summary>Working folder of one training run (ends with '/'): its plan and its latest checkpoint.</summary>
    public static string TrainingRunPrefix(string name, string runId) => $"{Segment(name)}/training/{Segment(runId)}/";

    public static string FileKey(string name, string version, string file) => VersionPrefix(name, version) + Segment(file);

    public static string CurrentKey(string name) => $"{Segment(name)}/{CurrentPointer}";

    /// <summary>A sortable, unique version id: UTC time of training end plus the ONNX hash prefix.</summary>
    public static string NewVersion(DateTimeOffset finishedAt, string onnxSha256) =>
        $"{finishedAt.UtcDateTime:yyyyMMdd'T'HHmmss'Z'}-{onnxSha256[..8]}";

    private static string Segment(string s) =>
        string.IsNullOrWhiteSpace(s) || s.Contains('/') || s is "." or ".."
            ? throw new ArgumentException($"'{s}' is not a valid registry key segment.")
            : s;
}

/// <summary>
/// Content of {name}/current.json: the promoted version and its manifest hash, why it moved there, and the pointers it
/// replaced (newest first: what a rollback returns to). One object, so a pointer move and its history are one atomic write.
/// </summary>
public sealed record CurrentModelPointer(string Version, string ManifestSha256, DateTimeOffset PromotedAt)
{
    /// <summary>Why the pointer moved here (e.g. "promoted by run ...", "rolled back from ...").</summary>
    public string? Reason { get; init; }

    /// <summary>The pointers this one replaced, newest first, each without its own history.</summary>
    public IReadOnlyList<CurrentModelPointer> Previous { get; init; } = [];
}
