using Pipeline.Denoising.Models;
using Pipeline.Promotion;

namespace Pipeline.Registry;

/// <summary>
/// What one training run decided and why, at {name}/runs/{run id}.json in the models bucket (see README): written by the
/// training coordinator at the end of every run, promoted or not, and listed by `pipeline model runs`. No patient data:
/// the lineage names series by key or UID hash.
/// </summary>
/// <param name="RunId">The run's id (a key segment), e.g. "20261201T020000Z-3f2a".</param>
/// <param name="Trigger">What started the run: "schedule", "request" (RetrainRequested) or "cli".</param>
/// <param name="Data">The training and held-out data (the candidate manifest's lineage).</param>
/// <param name="Budget">The step and wall-time budget the run had.</param>
/// <param name="StepsDone">Training steps done (a resumed run counts its steps before the restart too).</param>
/// <param name="Candidate">The trained version ("{name}/{version}"), null when the run produced none.</param>
/// <param name="Baseline">The version it was compared with (the current one), null for a first model.</param>
/// <param name="Scores">The evaluation's summary figures (EvaluationCompleted.Summary: each model's PSNR/SSIM per case).</param>
/// <param name="ScoreReport">Where the full scoring report is ("{bucket}/{key}").</param>
/// <param name="Gate">The promotion gate's verdict: settings, confidence intervals per case.</param>
/// <param name="Promoted">Whether the candidate became current.</param>
/// <param name="Reason">Why, in one line (the gate's reason, or what stopped the run).</param>
public sealed record DecisionRecord(
    string RunId,
    string Trigger,
    DateTimeOffset StartedAt,
    DateTimeOffset FinishedAt,
    IReadOnlyList<DataLineage> Data,
    TrainingBudget Budget,
    int StepsDone,
    string? Candidate,
    string? Baseline,
    IReadOnlyDictionary<string, double>? Scores,
    string? ScoreReport,
    GateVerdict? Gate,
    bool Promoted,
    string Reason)
{
    public int Format { get; init; } = 1;

    /// <summary>The RetrainRequested that started (or was skipped by) the run, when a message did.</summary>
    public Guid? RequestId { get; init; }
}

/// <summary>A run's budget: at most so many steps and so many minutes of wall time (null: no limit of that kind).</summary>
public sealed record TrainingBudget(int? Steps, double? Minutes);

/// <summary>The mark of a rejected version, at {name}/rejected/{version}.json.</summary>
/// <param name="RunId">The run whose gate rejected it, when a run did.</param>
public sealed record Rejection(string Reason, DateTimeOffset RejectedAt, string? RunId = null);

/// <summary>Where a version stands: the one in use, one it could roll back to, one turned down, or one never promoted.</summary>
public enum VersionState
{
    Current,
    Previous,
    Rejected,
    Candidate,
}

/// <summary>A version as `pipeline model list` shows it.</summary>
/// <param name="PublishedAt">When its manifest (written last) was stored.</param>
public sealed record ModelVersionEntry(ModelVersionId Id, VersionState State, DateTimeOffset PublishedAt);

/// <summary>A version as `pipeline model show` shows it: its manifest (lineage included), state and the runs that decided on it.</summary>
public sealed record ModelVersionDetails(ModelVersionId Id, VersionState State, ModelManifest Manifest, Rejection? Rejection, IReadOnlyList<DecisionRecord> Decisions);

/// <summary>A registry operation that cannot be done as asked (nothing to roll back to, rejecting the current version); nothing changed.</summary>
public sealed class ModelRegistryException(string message) : Exception(message);
