using System.Diagnostics;
using System.Text.Json;
using MassTransit;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Pipeline.Contracts;
using Pipeline.Denoising.Evaluation;
using Pipeline.Denoising.Models;
using Pipeline.Denoising.Training.Training;
using Pipeline.Hosting;
using Pipeline.Promotion;
using Pipeline.Registry;
using Pipeline.Storage;

namespace Pipeline.TrainingCoordinator;

/// <summary>A run's result before it becomes a decision record.</summary>
internal sealed record RunOutcome(string Outcome, string Reason, IReadOnlyList<DataLineage> Data, int StepsDone, string? Candidate = null,
    IReadOnlyDictionary<string, double>? Scores = null, string? ScoreReport = null, GateVerdict? Gate = null)
{
    public const string Promoted = "promoted", Rejected = "rejected", Skipped = "skipped", Failed = "failed";
}

/// <summary>Held-out scores of one evaluation request, as the evaluation's model score report has them.</summary>
internal sealed record ScoreReportFigures(IReadOnlyList<SlicePair>? Pairs, IReadOnlyDictionary<string, double> Summary);

/// <summary>
/// The steps of one training run: plan (data, split, baseline), train (checkpoints to the bucket, resume from them), score
/// (EvaluationRequested per held-out series, the evaluation service's report read back), decide (the promotion gate, then
/// promote and announce, or reject).
/// </summary>
internal sealed partial class RunSteps(
    IObjectStore store,
    ModelRegistry registry,
    TrainingData data,
    IBus bus,
    IOptions<CoordinatorOptions> options,
    IOptions<GateOptions> gate,
    IOptions<StorageOptions> storage,
    TimeProvider clock,
    ILogger<RunSteps> logger)
{
    public const string HeldOutRole = "held-out";

    /// <summary>Slices of held-out series i are numbered from i times this in the gate's pairs (each slice scored once).</summary>
    private const int SeriesSliceOffset = 100_000;

    private CoordinatorOptions Options => options.Value;

    /// <summary>
    /// Reads the training data and splits it by study; null plan (with the reason) when the run cannot or need not train:
    /// no training or no held-out series, or a scheduled run with too few new series since the last trained run.
    /// </summary>
    public async Task<(RunPlan? Plan, RunOutcome? NotRun)> PlanAsync(string model, string runId, RetrainRequested request, CancellationToken ct)
    {
        var baseline = await registry.EnsureCurrentAsync(model, DenoisingModel.DefaultFolder, ct);
        var all = await data.ReadAsync(Options.TrainingLocations, ct);
        var training = all.Where(s => !StudySplit.IsHeldOut(s.Series.StudyInstanceUid, Options.HeldOutFraction)).Select(s => s.Series).ToList();
        var heldOut = all.Where(s => StudySplit.IsHeldOut(s.Series.StudyInstanceUid, Options.HeldOutFraction)).Select(s => s.Series)
            .Take(Options.MaxHeldOutSeries).ToList();
        var where = string.Join(", ", Options.TrainingLocations);
        if (training.Count == 0 || heldOut.Count == 0)
            return (null, new RunOutcome(RunOutcome.Failed,
                $"no {(training.Count == 0 ? "training" : "held-out")} series: {all.Count} readable series under {where}, {training.Count} in training studies, {heldOut.Count} held out", [], 0));
        if (request.Trigger == RetrainRequested.OnSchedule && Options.MinNewSeries > 0)
        {
            var last = (await registry.ListDecisionsAsync(model, ct)).LastOrDefault(d => d.Candidate is not null);
            var known = last?.Data.Select(d => d.Source).ToHashSet() ?? [];
            var fresh = training.Count(s => !known.Contains(s.Source));
            if (last is not null && fresh < Options.MinNewSeries)
                return (null, new RunOutcome(RunOutcome.Skipped,
                    $"skipped: {fresh} new training series since run {last.RunId}, at least {Options.MinNewSeries} needed (TrainingCoordinator:MinNewSeries)", [], 0));
        }
        var plan = new RunPlan(runId, request.Trigger, request.RequestId, clock.GetUtcNow(), request.Steps ?? Options.Steps,
            request.Minutes ?? Options.Minutes, baseline.ToString(), training, heldOut);
        LogPlanned(logger, runId, training.Count, heldOut.Count, plan.Steps);
        return (plan, null);
    }

    /// <summary>
    /// Trains the candidate from the plan (resuming from the workspace's newest checkpoint), writes it as a model folder and
    /// publishes it in the registry (not current). <paramref name="progress"/> sees every step.
    /// </summary>
    public async Task<(ModelVersionId Candidate, IReadOnlyList<DataLineage> Lineage, int Steps)> TrainAsync(RunPlan plan, RunWorkspace workspace,
        Action<TrainingProgress> progress, CancellationToken ct)
    {
        using var activity = CoordinatorTelemetry.Source.StartActivity("training.train");
        var work = Path.Combine(Options.WorkFolder ?? Path.Combine(Path.GetTempPath(), "pipeline-training"), plan.RunId);
        if (Directory.Exists(work)) Directory.Delete(work, recursive: true);
        var checkpoint = Path.Combine(work, "checkpoint");
        try
        {
            var resumedAt = await workspace.DownloadCheckpointAsync(checkpoint, ct);
            activity?.SetTag("pipeline.training.resumed_at_step", resumedAt);
            if (resumedAt > 0) LogResumed(logger, plan.RunId, resumedAt);

            var baseline = await registry.OpenAsync(ModelVersionId.Parse(plan.Baseline!), ct);
            var volumes = (await data.ReadAsync(plan.Training, ct)).Select(s => new TrainingVolume(s.Series.Source, s.Series.Sha256, s.Volume)).ToList();
            var dataSet = TrainingDataSet.Split(volumes, Options.TrainFraction, Options.ValidationFraction);
            var training = TrainingOptionsFor(plan, baseline, checkpoint);

            var stateFile = Path.Combine(checkpoint, "state.json");
            var uploaded = File.Exists(stateFile) ? File.GetLastWriteTimeUtc(stateFile) : DateTime.MinValue;
            // The trainer reports on its own thread right after it saved a checkpoint: upload it there, before the next step.
            var reporter = new SyncProgress(p =>
            {
                progress(p);
                if (File.Exists(stateFile) && File.GetLastWriteTimeUtc(stateFile) is var saved && saved > uploaded)
                {
                    workspace.UploadCheckpointAsync(checkpoint, p.Step, ct).GetAwaiter().GetResult();
                    uploaded = saved;
                }
            });
            var result = await Task.Factory.StartNew(() => new Trainer(training, dataSet.Training, dataSet.Validation, logger).Train(reporter, ct),
                ct, TaskCreationOptions.LongRunning, TaskScheduler.Default);

            var folder = Path.Combine(work, "model");
            var manifest = ModelWriter.Write(folder, result, training, dataSet.Lineage, $"training coordinator run {plan.RunId}");
            var candidate = await registry.PublishAsync(folder, new ModelVersionId(ModelVersionId.Parse(plan.Baseline!).Name, manifest.Version), promote: false, ct);
            activity?.SetTag("pipeline.model_version", candidate.ToString());
            var lineage = dataSet.Lineage.Concat(plan.HeldOut.Select(s => new DataLineage(s.Source, s.Sha256, HeldOutRole, 0, s.Instances.Count - 1))).ToList();
            return (candidate, lineage, result.Steps);
        }
        finally
        {
            if (Directory.Exists(work)) Directory.Delete(work, recursive: true);
        }
    }

    /// <summary>
    /// Asks the evaluation service to score the candidate against the baseline on every held-out series and waits for its
    /// reports (or its failure record): the gate's paired slices, and the summaries averaged over the series.
    /// </summary>
    public async Task<(List<SlicePair> Pairs, Dictionary<string, double> Summary, string Reports)> ScoreAsync(RunPlan plan, RunWorkspace workspace,
        ModelVersionId candidate, CancellationToken ct)
    {
        using var activity = CoordinatorTelemetry.Source.StartActivity("training.score");
        await store.EnsureBucketAsync(storage.Value.OutputBucket, ct); // where the evaluation writes its reports (and failure records)
        var pairs = new List<SlicePair>();
        var summaries = new List<IReadOnlyDictionary<string, double>>();
        var reports = new List<string>();
        for (var i = 0; i < plan.HeldOut.Count; i++)
        {
            var series = plan.HeldOut[i];
            var set = new HeldOutSet($"run {plan.RunId} held-out {i + 1}", Instances: series.Instances,
                Noise: Options.HeldOutNoise.Count > 0 ? Options.HeldOutNoise : null, SliceCount: Options.HeldOutSlices);
            var setRef = workspace.Object($"held-out-{i + 1}.json");
            await workspace.WriteAsync($"held-out-{i + 1}.json", set, ct);
            var requestId = NewId.NextGuid();
            await bus.Publish(new EvaluationRequested(candidate.ToString(), plan.Baseline, setRef, requestId), ct);
            var report = new ObjectRef(storage.Value.OutputBucket, BucketLayout.ModelScore(candidate.ToString(), requestId));
            var figures = await WaitForReportAsync(report, setRef, ct);
            pairs.AddRange((figures.Pairs ?? []).Select(p => p with { Slice = i * SeriesSliceOffset + p.Slice }));
            summaries.Add(figures.Summary);
            reports.Add(report.ToString());
        }
        var summary = summaries.SelectMany(s => s).GroupBy(kv => kv.Key).ToDictionary(g => g.Key, g => g.Average(kv => kv.Value));
        return (pairs, summary, string.Join(", ", reports));
    }

    /// <summary>The gate's verdict; promoting moves the pointer and announces the version to every worker, else it is marked rejected.</summary>
    public async Task<GateVerdict> DecideAsync(RunPlan plan, ModelVersionId candidate, IReadOnlyList<SlicePair> pairs, CancellationToken ct)
    {
        using var activity = CoordinatorTelemetry.Source.StartActivity("training.decide");
        var verdict = PromotionGate.Decide(pairs, gate.Value);
        activity?.SetTag("pipeline.promoted", verdict.Promote);
        if (verdict.Promote)
        {
            await registry.PromoteAsync(candidate, $"promoted by run {plan.RunId}: {verdict.Reason}", ct);
            var manifest = await registry.ShowAsync(candidate, ct);
            await bus.Publish(new ModelVersionPublished(candidate.ToString(),
                new ObjectRef(registry.Bucket, ModelRegistryLayout.FileKey(candidate.Name, candidate.Version, ModelFolder.ManifestFile)),
                manifest.Manifest.Files.Onnx.Sha256, manifest.Manifest.Files.Weights.Sha256), ct);
        }
        else
        {
            await registry.RejectAsync(candidate, new Rejection(verdict.Reason, clock.GetUtcNow(), plan.RunId), ct);
        }
        return verdict;
    }

    private TrainingOptions TrainingOptionsFor(RunPlan plan, ModelFolder baseline, string checkpoint) => new()
    {
        Architecture = baseline.Manifest.Architecture,
        InitialModel = Options.FineTune ? baseline.Path : null,
        Mode = Options.Mode,
        NoisyData = Options.NoisyData,
        Steps = plan.Steps,
        TimeBudget = TimeSpan.FromMinutes(plan.Minutes),
        PatchSize = Options.PatchSize,
        BatchSize = Options.BatchSize,
        LearningRate = Options.LearningRate,
        ValidateEvery = Options.ValidateEvery,
        Seed = Options.Seed,
        Threads = Options.Threads,
        CheckpointFolder = checkpoint,
        CheckpointEvery = Options.CheckpointEvery,
    };

    private async Task<ScoreReportFigures> WaitForReportAsync(ObjectRef report, ObjectRef heldOutSet, CancellationToken ct)
    {
        var failure = BucketLayout.FailureRecord(PipelineStage.Evaluation, heldOutSet);
        var deadline = clock.GetUtcNow() + Options.EvaluationTimeout;
        while (true)
        {
            if (await store.TryStatAsync(report.Bucket, report.Key, ct) is not null)
                return JsonSerializer.Deserialize<ScoreReportFigures>(await store.GetBytesAsync(report.Bucket, report.Key, cancellationToken: ct), EvaluationReport.Json)
                    ?? throw new InvalidDataException($"{report} is empty");
            if (await store.ReadFailureAsync(report.Bucket, failure, ct) is { } failed)
                throw new InvalidOperationException($"the evaluation could not score the candidate: {failed.Reason}");
            if (clock.GetUtcNow() > deadline)
                throw new TimeoutException($"no score report {report} after {Options.EvaluationTimeout} (is the evaluation service running?)");
            await Task.Delay(TimeSpan.FromSeconds(1), clock, ct);
        }
    }

    /// <summary>Calls back on the reporting thread (Progress{T} would post to the thread pool, after the next step began).</summary>
    private sealed class SyncProgress(Action<TrainingProgress> report) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => report(value);
    }

    [LoggerMessage(4010, LogLevel.Information, "Run {RunId} planned: {Training} training series, {HeldOut} held-out series, {Steps} steps")]
    private static partial void LogPlanned(ILogger logger, string runId, int training, int heldOut, int steps);

    [LoggerMessage(4011, LogLevel.Information, "Run {RunId} resumes from its checkpoint at step {Step}")]
    private static partial void LogResumed(ILogger logger, string runId, int step);
}
