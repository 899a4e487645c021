using Pipeline.Contracts;
using Pipeline.Denoising.Evaluation;
using Pipeline.Imaging.Nifti;
using Pipeline.Imaging.Samples;
using Pipeline.Registry;
using Pipeline.Storage;
using Xunit.Abstractions;

namespace Pipeline.IntegrationTests.Pipeline;

/// <summary>
/// The training coordinator and the evaluation service as their own processes on the real RabbitMQ and S3 server: a
/// RetrainRequested trains a candidate from the training prefix, the evaluation scores it on the held-out study against
/// the current model, the promotion gate decides and a decision record says so. Small on purpose (slabs of 10 and 24
/// slices, patches of 32, one or a few steps, one noise level): the figures are not the point, the loop is.
/// </summary>
[Collection(TestServersCollection.Name)]
public sealed class TrainingCoordinatorTests(TestServers servers, ITestOutputHelper output) : IAsyncLifetime
{
    private const string Model = "denoiser";
    private const double HeldOutFraction = 0.5;
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(3);
    private PipelineScope _scope = null!;
    private ModelRegistry _registry = null!;

    public async Task InitializeAsync()
    {
        _scope = await PipelineScope.CreateAsync(servers);
        _registry = new ModelRegistry(_scope.Store, new ModelRegistryOptions { Bucket = _scope.ModelsBucket, CacheFolder = Path.Combine(_scope.CacheFolder, "test") });
    }

    public async Task DisposeAsync() => await _scope.DisposeAsync();

    [Fact]
    public async Task Requirement_two_concurrent_requests_train_once_and_a_one_step_candidate_is_rejected_with_a_decision_record_while_the_incumbent_stays_current()
    {
        var heldOutSource = await SeedTrainingDataAsync();
        List<ServiceProcess> processes = [];
        try
        {
            processes.Add(ServiceProcess.Start("coordinator", "Pipeline.TrainingCoordinator", Settings("coordinator",
                ("TrainingCoordinator:FineTune", "false")))); // one step from random weights: a deliberately worse candidate
            processes.Add(ServiceProcess.Start("evaluation", "Pipeline.Evaluation", Settings("evaluation")));
            await Task.WhenAll(processes.Select(p => p.WaitReadyAsync(TimeSpan.FromSeconds(90))));
            await using var observer = await RecorderBus.StartAsync(_scope);

            RetrainRequested[] requests = [new(Guid.NewGuid(), Steps: 1), new(Guid.NewGuid(), Steps: 1)];
            await Task.WhenAll(requests.Select(r => observer.Bus.Publish(r)));
            var decisions = await WaitForDecisionsAsync(requests.Select(r => r.RequestId));

            // The lease: one request trained, the other is on record as skipped, naming the run that held the lease.
            var trained = Assert.Single(decisions, d => d.Candidate is not null);
            var skipped = Assert.Single(decisions, d => d.Candidate is null);
            Assert.Contains($"run {trained.RunId} holds the training lease", skipped.Reason, StringComparison.Ordinal);
            Assert.Equal(0, skipped.StepsDone);

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
            Assert.Equal(new ModelVersionId(Model, "1"), await _registry.TryGetCurrentAsync(Model));
            var candidate = ModelVersionId.Parse(trained.Candidate!);
            Assert.Equal(VersionState.Rejected, (await _registry.ShowAsync(candidate)).State);

            // The run cleaned up after itself: lease given back, checkpoints gone.
            Assert.Null(await _registry.ReadTrainingLeaseAsync(Model));
            Assert.Empty(await _scope.KeysAsync(_scope.ModelsBucket, $"{Model}/training/{trained.RunId}/checkpoint/"));
        }
        finally
        {
            foreach (var process in processes)
            {
                foreach (var line in process.Lines) output.WriteLine($"[{process.Name}] {line}");
                await process.DisposeAsync();
            }
        }
    }

    private Dictionary<string, string?> Settings(string name, params (string Key, string Value)[] extra)
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

    private async Task<List<DecisionRecord>> WaitForDecisionsAsync(IEnumerable<Guid> requestIds)
    {
        var wanted = requestIds.ToHashSet();
        using var timeout = new CancellationTokenSource(Patience);
        while (true)
        {
            var found = (await _registry.ListDecisionsAsync(Model)).Where(d => d.RequestId is { } id && wanted.Contains(id)).ToList();
            if (found.Count == wanted.Count) return found;
            await Task.Delay(500, timeout.Token);
        }
    }
}
