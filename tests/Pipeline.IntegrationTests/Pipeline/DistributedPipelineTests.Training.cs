using Pipeline.Contracts;
using Pipeline.Denoising.Evaluation;
using Pipeline.Imaging.Nifti;
using Pipeline.Imaging.Samples;
using Pipeline.Registry;
using Pipeline.Storage;

namespace Pipeline.IntegrationTests.Pipeline;

/// <summary>
/// The training coordinator and the evaluation service as their own processes on the real RabbitMQ and S3 server: a
/// RetrainRequested trains a candidate from the training prefix, the evaluation scores it on the held-out study against
/// the current model, the promotion gate decides and a decision record says so. Small on purpose (slabs of 10 and 24
/// slices, patches of 32, one step, one noise level): the figures are not the point, the loop is.
/// </summary>
public sealed partial class DistributedPipelineTests
{
    private const string Model = "denoiser";
    private const double HeldOutFraction = 0.5;

    [Fact]
    public async Task Requirement_two_concurrent_requests_train_once_and_a_one_step_candidate_is_rejected_with_a_decision_record_while_the_incumbent_stays_current()
    {
        var registry = new ModelRegistry(_scope.Store, new ModelRegistryOptions { Bucket = _scope.ModelsBucket, CacheFolder = Path.Combine(_scope.CacheFolder, "test") });
        var heldOutSource = await SeedTrainingDataAsync();
        List<ServiceProcess> processes = [];
        try
        {
            processes.Add(ServiceProcess.Start("coordinator", "Pipeline.TrainingCoordinator", TrainingSettings("coordinator",
                ("TrainingCoordinator:FineTune", "false")))); // one step from random weights: a deliberately worse candidate
            processes.Add(ServiceProcess.Start("evaluation", "Pipeline.Evaluation", TrainingSettings("evaluation")));
            await Task.WhenAll(processes.Select(p => p.WaitReadyAsync(TimeSpan.FromSeconds(90))));
            await using var observer = await RecorderBus.StartAsync(_scope);

            // An operator asks for a run and waits; while it trains (the lease exists) a second request arrives.
            var operatorRun = Task.Run(() => Cli(TrainingSettings("cli"), TimeSpan.FromMinutes(4), "model", "retrain", "--steps", "1", "--wait"));
            await WaitUntilAsync(async () => await registry.ReadTrainingLeaseAsync(Model) is not null, "no run took the training lease");
            var second = new RetrainRequested(Guid.NewGuid(), Steps: 1);
            await observer.Bus.Publish(second);
            var (exitCode, printed) = await operatorRun;
            Assert.True(exitCode == 0, printed);

            // The lease: the operator's request trained, the second is on record as skipped, naming the run that held the lease.
            var decisions = await registry.ListDecisionsAsync(Model);
            Assert.Equal(2, decisions.Count);
            var trained = Assert.Single(decisions, d => d.Candidate is not null);
            var skipped = Assert.Single(decisions, d => d.Candidate is null);
            Assert.Equal(second.RequestId, skipped.RequestId);
            Assert.Contains($"run {trained.RunId} holds the training lease", skipped.Reason, StringComparison.Ordinal);
            Assert.Equal(0, skipped.StepsDone);
            // The tool showed the run's progress from the lease, then its decision.
            Assert.Matches($@"run {trained.RunId}: (planning|training|scoring|deciding), step \d+/\d+", printed);
            Assert.Contains($"run {trained.RunId}: rejected", printed, StringComparison.Ordinal);

            // The worse candidate: trained one step, scored on the held-out study only, rejected by the gate; nothing moved.
            Assert.Equal(1, trained.StepsDone);
            Assert.Equal($"{Model}/1", trained.Baseline);
            Assert.False(trained.Promoted);
            Assert.NotNull(trained.Gate);
            Assert.False(trained.Gate!.Promote);
            Assert.StartsWith("rejected", trained.Reason, StringComparison.Ordinal);
            Assert.All(trained.Gate.Cases, c => Assert.True(c.PsnrGain.Mean < 0, $"{c.Scaling}/{c.Noise}: PSNR gain {c.PsnrGain.Mean}"));
            Assert.Equal([heldOutSource], trained.Data.Where(d => d.Role == "held-out").Select(d => d.Source));
            Assert.DoesNotContain(trained.Data, d => d.Role != "held-out" && d.Source == heldOutSource);
            Assert.Equal(new ModelVersionId(Model, "1"), await registry.TryGetCurrentAsync(Model));
            var candidate = ModelVersionId.Parse(trained.Candidate!);
            Assert.Equal(VersionState.Rejected, (await registry.ShowAsync(candidate)).State);

            // The run cleaned up after itself: lease given back, checkpoints gone.
            Assert.Null(await registry.ReadTrainingLeaseAsync(Model));
            Assert.Empty(await _scope.KeysAsync(_scope.ModelsBucket, $"{Model}/training/{trained.RunId}/checkpoint/"));
        }
        finally
        {
            await DisposeAllAsync(processes);
        }
    }

    [Fact]
    public async Task Requirement_a_coordinator_killed_mid_training_is_taken_over_and_the_run_resumes_from_its_checkpoint_in_the_bucket()
    {
        var registry = new ModelRegistry(_scope.Store, new ModelRegistryOptions { Bucket = _scope.ModelsBucket, CacheFolder = Path.Combine(_scope.CacheFolder, "test") });
        await SeedTrainingDataAsync();
        await _scope.Store.EnsureBucketAsync(_scope.ModelsBucket); // the test watches it from the start
        (string, string)[] run = [("TrainingCoordinator:CheckpointEvery", "10"), ("TrainingCoordinator:LeaseDuration", "00:00:06")];
        List<ServiceProcess> processes = [];
        try
        {
            processes.Add(ServiceProcess.Start("coordinator-1", "Pipeline.TrainingCoordinator", TrainingSettings("coordinator-1", run)));
            processes.Add(ServiceProcess.Start("evaluation", "Pipeline.Evaluation", TrainingSettings("evaluation")));
            await Task.WhenAll(processes.Select(p => p.WaitReadyAsync(TimeSpan.FromSeconds(90))));
            await using var observer = await RecorderBus.StartAsync(_scope);
            var request = new RetrainRequested(Guid.NewGuid(), Steps: 100);
            await observer.Bus.Publish(request);

            // SIGKILL once a checkpoint is in the bucket: no shutdown code runs, the lease just stops being renewed.
            var checkpoints = $"{Model}/training/";
            await WaitUntilAsync(async () => (await _scope.KeysAsync(_scope.ModelsBucket, checkpoints)).Any(k => k.EndsWith("/state.json", StringComparison.Ordinal)),
                "no checkpoint reached the bucket");
            await processes[0].KillAsync(TimeSpan.FromSeconds(10));
            Assert.Null((await registry.ListDecisionsAsync(Model)).FirstOrDefault());

            processes.Add(ServiceProcess.Start("coordinator-2", "Pipeline.TrainingCoordinator", TrainingSettings("coordinator-2", run)));
            await WaitUntilAsync(async () => (await registry.ListDecisionsAsync(Model)).Count > 0, "the killed run was not finished by the second coordinator");

            var decision = Assert.Single(await registry.ListDecisionsAsync(Model));
            Assert.Equal(request.RequestId, decision.RequestId);
            Assert.NotNull(decision.Candidate);
            Assert.Equal(100, decision.StepsDone); // the step counter went on from the checkpoint to the budget
            var resumed = Assert.Single(processes[2].Lines, l => l.Contains($"Run {decision.RunId} resumes from its checkpoint at step ", StringComparison.Ordinal));
            Assert.DoesNotContain(" at step 0", resumed, StringComparison.Ordinal);
        }
        finally
        {
            await DisposeAllAsync(processes);
        }
    }

    private Dictionary<string, string?> TrainingSettings(string name, params (string Key, string Value)[] extra)
    {
        var settings = new Dictionary<string, string?>(_scope.Settings())
        {
            ["ModelRegistry:CacheFolder"] = Path.Combine(_scope.CacheFolder, name),
            ["TrainingCoordinator:Schedule"] = "",
            ["TrainingCoordinator:TrainingData:0"] = $"{_scope.InputBucket}/training/",
            ["TrainingCoordinator:HeldOutFraction"] = HeldOutFraction.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["TrainingCoordinator:MaxHeldOutSeries"] = "1",
            ["TrainingCoordinator:HeldOutNoise:0"] = "rician:0.1",
            ["TrainingCoordinator:HeldOutSlices"] = "5",
            ["TrainingCoordinator:PatchSize"] = "32",
            ["TrainingCoordinator:BatchSize"] = "4",
            ["TrainingCoordinator:Threads"] = "1",
            ["TrainingCoordinator:LeaseDuration"] = "00:00:20",
            ["TrainingCoordinator:LeaseSettle"] = "00:00:01",
            ["TrainingCoordinator:EvaluationTimeout"] = "00:02:00",
            ["TrainingCoordinator:WorkFolder"] = Path.Combine(_scope.CacheFolder, name + "-work"),
        };
        foreach (var (key, value) in extra) settings[key] = value;
        return settings;
    }

    /// <summary>
    /// Uploads slabs of Colin27 as separate studies under training/: two that the study split puts in training (10 slices)
    /// and one it holds out (24 slices: the quality protocol scores the top fifth, at least 5 slices for the gate).
    /// Returns the held-out series' lineage source.
    /// </summary>
    private async Task<string> SeedTrainingDataAsync()
    {
        var volume = SampleSeries.ToStoredScale(NiftiReader.Read("/usr/share/mricron/templates/ch2.nii.gz").Volume);
        var folder = Directory.CreateTempSubdirectory("it-training-").FullName;
        try
        {
            var (training, heldOut) = (0, 0);
            string? heldOutSource = null;
            for (var k = 0; training < 2 || heldOut < 1; k++)
            {
                var name = $"coordinator-it-{k}";
                var probe = SampleSeries.Write(volume.With([volume.Slices[80]]), Path.Combine(folder, "probe" + k), new SampleSeriesOptions { Name = name });
                var held = StudySplit.IsHeldOut(probe.StudyInstanceUid, HeldOutFraction);
                if (held ? heldOut >= 1 : training >= 2) continue;
                var (first, count) = held ? (64, 24) : (84 + 10 * training, 10);
                var written = SampleSeries.Write(volume.With([.. volume.Slices.Skip(first).Take(count)]), Path.Combine(folder, name), new SampleSeriesOptions { Name = name });
                foreach (var file in written.Files)
                    await _scope.Store.PutBytesAsync(_scope.InputBucket, $"training/{name}/{Path.GetFileName(file)}", await File.ReadAllBytesAsync(file));
                if (held)
                {
                    heldOut++;
                    var uidHash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(written.SeriesInstanceUid)))[..12];
                    heldOutSource = $"{_scope.InputBucket}/training/{name}/ series {uidHash}";
                }
                else
                {
                    training++;
                }
            }
            return heldOutSource!;
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
