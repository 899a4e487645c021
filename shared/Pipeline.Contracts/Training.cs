namespace Pipeline.Contracts;

/// <summary>
/// Anyone (the coordinator's own schedule, `pipeline model retrain`) -> training coordinator: train a candidate now, score it
/// against the current model and promote it only when the gate says it is better. At most one run trains at a time: a
/// request that finds a run in progress is recorded as skipped (a decision record with no candidate), not queued.
/// </summary>
/// <param name="RequestId">Names the request in the run's decision record (`pipeline model retrain --wait` looks for it).</param>
/// <param name="Trigger">"schedule" or "request" (also written to the decision record).</param>
/// <param name="Steps">Training step budget for this run; null: the coordinator's setting.</param>
/// <param name="Minutes">Wall-time budget for this run; null: the coordinator's setting.</param>
public sealed record RetrainRequested(
    Guid RequestId,
    string Trigger = RetrainRequested.OnRequest,
    int? Steps = null,
    double? Minutes = null) : IPipelineMessage
{
    public const string OnSchedule = "schedule", OnRequest = "request";

    public int ContractVersion { get; init; } = Contracts.ContractVersion.Current;
}
