using System.Diagnostics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Pipeline.Contracts;
using Pipeline.Denoising.Training.Training;
using Pipeline.Registry;
using Pipeline.Storage;

namespace Pipeline.TrainingCoordinator;

/// <summary>
/// Runs training runs one at a time, in the background (a run outlasts any message's delivery): a request takes the
/// training lease and starts a run, or, when another run holds the lease, is recorded as skipped. Every few seconds it
/// also looks for a run whose coordinator stopped (its lease expired before the run ended) and resumes it from its last
/// checkpoint. Every run, and every skipped request, ends in a decision record.
/// </summary>
internal sealed partial class RetrainRunner(
    RunSteps steps,
    LeaseKeeper leases,
    ModelRegistry registry,
    IObjectStore store,
    IOptions<ModelRegistrySettings> registrySettings,
    IOptions<CoordinatorOptions> options,
    TimeProvider clock,
    ILogger<RetrainRunner> logger) : BackgroundService
{
    private readonly object _gate = new();
    private readonly CancellationTokenSource _shutdown = new();
    private Task _running = Task.CompletedTask;

    private string Model => registrySettings.Value.Model;

    /// <summary>Starts a run for <paramref name="request"/> unless one is running; returns the id of the run started or skipped.</summary>
    public async Task<string> RequestAsync(RetrainRequested request, CancellationToken ct)
    {
        var runId = $"{clock.GetUtcNow().UtcDateTime:yyyyMMdd'T'HHmmss'Z'}-{request.RequestId.ToString("N")[..8]}";
        var startedAt = clock.GetUtcNow();
        if (await TryResumeOrphanAsync(ct) is { } resumed)
        {
            await SkipAsync(runId, request, startedAt, $"skipped: run {resumed} (its coordinator stopped) was resumed from its checkpoint instead", ct);
            return runId;
        }
        var (taken, lease) = await leases.TryTakeAsync(Model, runId, orphanOnly: false, ct);
        if (!taken)
        {
            await SkipAsync(runId, request, startedAt, $"skipped: run {lease?.RunId} holds the training lease (until {lease?.ExpiresAt:u})", ct);
            return runId;
        }
        Start(runId, request);
        return runId;
    }

    /// <summary>Stops a training run at its next step; it stays resumable (see RunAsync).</summary>
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await _shutdown.CancelAsync();
        Task running;
        lock (_gate) running = _running;
        await running.WaitAsync(cancellationToken);
        await base.StopAsync(cancellationToken);
    }

    public override void Dispose()
    {
        _shutdown.Dispose();
        base.Dispose();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var every = options.Value.LeaseDuration / 2;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await TryResumeOrphanAsync(stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                LogOrphanCheckFailed(logger, e.Message);
            }
            try
            {
                await Task.Delay(every, clock, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }

    /// <summary>Takes over a run whose lease expired before it ended (its plan is still there); returns its id.</summary>
    private async Task<string?> TryResumeOrphanAsync(CancellationToken ct)
    {
        lock (_gate)
            if (!_running.IsCompleted) return null;
        var lease = await leases.ReadAsync(Model, ct);
        if (lease is null || !lease.IsExpired(clock.GetUtcNow())) return null;
        var plan = await new RunWorkspace(store, registry, Model, lease.RunId).ReadPlanAsync(ct);
        if (plan is null)
        {
            // A run stopped before it planned: nothing to resume; free the lease for the next request.
            if ((await leases.TryTakeAsync(Model, lease.RunId, orphanOnly: true, ct)).Taken) await leases.ReleaseAsync(Model, lease.RunId, ct);
            return null;
        }
        if (!(await leases.TryTakeAsync(Model, lease.RunId, orphanOnly: true, ct)).Taken) return null;
        LogTakingOver(logger, lease.RunId, lease.Holder);
        Start(plan.RunId, new RetrainRequested(plan.RequestId ?? Guid.Empty, plan.Trigger, plan.Steps, plan.Minutes));
        return plan.RunId;
    }

    private void Start(string runId, RetrainRequested request)
    {
        lock (_gate)
            _running = Task.Run(() => RunAsync(runId, request, _shutdown.Token));
    }

    private async Task RunAsync(string runId, RetrainRequested request, CancellationToken stopping)
    {
        using var activity = CoordinatorTelemetry.Source.StartActivity("training.run");
        activity?.SetTag("pipeline.training.run_id", runId);
        activity?.SetTag("pipeline.training.trigger", request.Trigger);
        var workspace = new RunWorkspace(store, registry, Model, runId);
        using var run = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        var progress = new TrainingLease(leases.Holder, runId, default);
        using var renewal = new CancellationTokenSource();
        var renewing = RenewAsync(() => progress, run, renewal.Token);
        RunPlan? plan = null;
        RunOutcome outcome;
        var startedAt = clock.GetUtcNow();
        try
        {
            plan = await workspace.ReadPlanAsync(run.Token);
            if (plan is null)
            {
                (plan, var notRun) = await steps.PlanAsync(Model, runId, request, run.Token);
                if (plan is not null) await workspace.WritePlanAsync(plan, run.Token);
                outcome = notRun ?? await TrainScoreDecideAsync(plan!, workspace, p => progress = p, run.Token);
            }
            else
            {
                outcome = await TrainScoreDecideAsync(plan, workspace, p => progress = p, run.Token);
            }
        }
        catch (OperationCanceledException) when (run.IsCancellationRequested)
        {
            await renewal.CancelAsync();
            await renewing;
            CoordinatorTelemetry.Report(null);
            if (stopping.IsCancellationRequested)
            {
                // Shutdown: the lease stays, naming the run, but expires now: the next coordinator resumes it from its checkpoint.
                await leases.ExpireAsync(Model, runId, CancellationToken.None);
                LogInterrupted(logger, runId, progress.Step);
            }
            else
            {
                LogLeaseLost(logger, runId);
            }
            return;
        }
        catch (Exception e)
        {
            outcome = new RunOutcome(RunOutcome.Failed, $"failed: {e.Message}", [], progress.Step);
            LogFailed(logger, runId, e.Message);
        }
        await renewal.CancelAsync();
        await renewing;
        CoordinatorTelemetry.Report(null);
        await RecordAsync(runId, request, plan?.StartedAt ?? startedAt, plan, outcome, CancellationToken.None);
        await workspace.DeleteCheckpointsAsync(CancellationToken.None);
        await leases.ReleaseAsync(Model, runId, CancellationToken.None);
        activity?.SetTag("pipeline.training.outcome", outcome.Outcome);
    }

    private async Task<RunOutcome> TrainScoreDecideAsync(RunPlan plan, RunWorkspace workspace, Action<TrainingLease> progress, CancellationToken ct)
    {
        var clockStart = Stopwatch.StartNew();
        var firstStep = -1;
        void OnStep(TrainingProgress p)
        {
            if (firstStep < 0) firstStep = p.Step - 1;
            var rate = (p.Step - firstStep) / Math.Max(1e-9, clockStart.Elapsed.TotalSeconds);
            CoordinatorTelemetry.Report(new CoordinatorTelemetry.Progress(p.Step, p.TotalSteps, p.Loss, rate, (p.TotalSteps - p.Step) / Math.Max(1e-9, rate)));
            progress(new TrainingLease(leases.Holder, plan.RunId, default, p.Step, p.TotalSteps, "training"));
        }
        progress(new TrainingLease(leases.Holder, plan.RunId, default, 0, plan.Steps, "training"));
        var (candidate, lineage, stepsDone) = await steps.TrainAsync(plan, workspace, OnStep, ct);
        CoordinatorTelemetry.Report(null);
        progress(new TrainingLease(leases.Holder, plan.RunId, default, stepsDone, plan.Steps, "scoring"));
        var (pairs, summary, reports) = await steps.ScoreAsync(plan, workspace, candidate, ct);
        progress(new TrainingLease(leases.Holder, plan.RunId, default, stepsDone, plan.Steps, "deciding"));
        var verdict = await steps.DecideAsync(plan, candidate, pairs, ct);
        return new RunOutcome(verdict.Promote ? RunOutcome.Promoted : RunOutcome.Rejected, verdict.Reason, lineage, stepsDone,
            candidate.ToString(), summary, reports, verdict);
    }

    /// <summary>Renews the lease with the run's progress every third of its duration; cancels the run when the lease was lost.</summary>
    private async Task RenewAsync(Func<TrainingLease> progress, CancellationTokenSource run, CancellationToken ct)
    {
        var every = options.Value.LeaseDuration / 3;
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(every, clock, ct);
                if (!await leases.RenewAsync(Model, progress(), ct))
                {
                    await run.CancelAsync();
                    return;
                }
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (Exception e)
            {
                LogRenewFailed(logger, e.Message); // the store hiccuped: try again at the next beat, well before expiry
            }
        }
    }

    private Task SkipAsync(string runId, RetrainRequested request, DateTimeOffset startedAt, string reason, CancellationToken ct) =>
        RecordAsync(runId, request, startedAt, null, new RunOutcome(RunOutcome.Skipped, reason, [], 0), ct);

    private async Task RecordAsync(string runId, RetrainRequested request, DateTimeOffset startedAt, RunPlan? plan, RunOutcome outcome, CancellationToken ct)
    {
        var record = new DecisionRecord(runId, request.Trigger, startedAt, clock.GetUtcNow(), outcome.Data,
            new TrainingBudget(plan?.Steps ?? request.Steps ?? options.Value.Steps, plan?.Minutes ?? request.Minutes ?? options.Value.Minutes),
            outcome.StepsDone, outcome.Candidate, plan?.Baseline, outcome.Scores, outcome.ScoreReport, outcome.Gate,
            outcome.Outcome == RunOutcome.Promoted, outcome.Reason)
        {
            RequestId = request.RequestId == Guid.Empty ? null : request.RequestId,
        };
        await registry.WriteDecisionAsync(Model, record, ct);
        CoordinatorTelemetry.RunEnded(outcome.Outcome, request.Trigger);
        LogDecided(logger, runId, outcome.Outcome, outcome.Reason);
    }

    [LoggerMessage(4020, LogLevel.Information, "Run {RunId} ({Outcome}): {Reason}")]
    private static partial void LogDecided(ILogger logger, string runId, string outcome, string reason);

    [LoggerMessage(4022, LogLevel.Warning, "Run {RunId} takes over from {Holder}, whose lease expired before the run ended")]
    private static partial void LogTakingOver(ILogger logger, string runId, string holder);

    [LoggerMessage(4023, LogLevel.Warning, "Run {RunId} stopped at step {Step} by shutdown; the next coordinator resumes it from its checkpoint")]
    private static partial void LogInterrupted(ILogger logger, string runId, int step);

    [LoggerMessage(4024, LogLevel.Error, "Run {RunId} stopped: another coordinator holds its lease now")]
    private static partial void LogLeaseLost(ILogger logger, string runId);

    [LoggerMessage(4025, LogLevel.Error, "Run {RunId} failed: {Reason}")]
    private static partial void LogFailed(ILogger logger, string runId, string reason);

    [LoggerMessage(4026, LogLevel.Warning, "Renewing the training lease failed: {Reason}")]
    private static partial void LogRenewFailed(ILogger logger, string reason);

    [LoggerMessage(4027, LogLevel.Warning, "Looking for a stopped run to resume failed: {Reason}")]
    private static partial void LogOrphanCheckFailed(ILogger logger, string reason);
}
