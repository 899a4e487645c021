using System.Text.Json;
using Pipeline.Contracts;
using Pipeline.Storage;
using Xunit.Abstractions;

namespace Pipeline.IntegrationTests.Pipeline;

/// <summary>
/// Distributed mode: ingest, two denoise workers and evaluation as four separate processes (the built service
/// executables, configured by environment variables) on the real RabbitMQ and S3 server.
/// </summary>
[Collection(TestServersCollection.Name)]
public sealed partial class DistributedPipelineTests(TestServers servers, ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(2);
    private const int Slices = 6;
    private PipelineScope _scope = null!;

    public async Task InitializeAsync() => _scope = await PipelineScope.CreateAsync(servers);

    public async Task DisposeAsync() => await _scope.DisposeAsync();

    [Fact]
    public async Task Requirement_three_services_as_processes_with_two_workers_do_every_series_exactly_once_and_stop_cleanly_on_SIGTERM()
    {
        var settings = _scope.Settings();
        Dictionary<string, string?> With(string cache, params (string Key, string Value)[] extra)
        {
            var copy = new Dictionary<string, string?>(settings) { ["ModelRegistry:CacheFolder"] = Path.Combine(_scope.CacheFolder, cache) };
            foreach (var (key, value) in extra) copy[key] = value;
            return copy;
        }

        // Prefetch 1 and one job at a time: a worker holds one job, so two jobs published together go to the two workers.
        var worker = new[] { ("Bus:PrefetchCount", "1"), ("DenoiseWorker:ConcurrentJobs", "1"), ("DenoiseWorker:Engine:Threads", "1") };
        List<ServiceProcess> processes = [];
        try
        {
            processes.Add(ServiceProcess.Start("ingest", "Pipeline.Ingest", With("ingest")));
            processes.Add(ServiceProcess.Start("worker-1", "Pipeline.DenoiseWorker", With("worker-1", worker)));
            processes.Add(ServiceProcess.Start("worker-2", "Pipeline.DenoiseWorker", With("worker-2", worker)));
            processes.Add(ServiceProcess.Start("evaluation", "Pipeline.Evaluation", With("evaluation")));
            await Task.WhenAll(processes.Select(p => p.WaitReadyAsync(TimeSpan.FromSeconds(90))));

            // The test watches the broker from its own bus in the same virtual host.
            await using var observer = await RecorderBus.StartAsync(_scope);
            foreach (var series in new[] { "t1", "t1-noisy" })
                await _scope.DropAsync($"drop/distributed/{series}/", PipelineScope.SampleSeries(series, Slices));

            await observer.Recorder.WaitForAsync<EvaluationCompleted>(2, Patience);
            await Task.Delay(PipelineScope.QuietPeriod + TimeSpan.FromSeconds(2)); // more than a quiet period and several scans: nothing else may come

            // Exactly once: one job, one announcement, one evaluation per series; one marker, revision 1, every instance.
            Assert.Equal(2, observer.Recorder.All<DenoiseSeries>().Select(j => j.SeriesInstanceUid).Distinct().Count());
            Assert.Equal(2, observer.Recorder.All<DenoiseSeries>().Count);
            Assert.Equal(2, observer.Recorder.All<SeriesDenoised>().Count);
            Assert.Equal(2, observer.Recorder.All<EvaluationCompleted>().Count);
            foreach (var job in observer.Recorder.All<DenoiseSeries>())
            {
                var marker = JsonSerializer.Deserialize<SeriesCompletion>(await _scope.Store.GetBytesAsync(_scope.OutputBucket,
                    BucketLayout.CompletionMarker(job.StudyInstanceUid, job.SeriesInstanceUid, job.ModelVersion)))!;
                Assert.Equal((1, Slices, 0), (marker.Revision, marker.Instances.Count, marker.FailedInstances.Count));
                var derived = await _scope.KeysAsync(_scope.OutputBucket, BucketLayout.DerivedInstancesFolder(job.StudyInstanceUid, job.SeriesInstanceUid, job.ModelVersion));
                Assert.Equal(marker.Instances.Select(i => i.Derived.Key).Order(StringComparer.Ordinal), derived);
                Assert.True(await _scope.Store.ExistsAsync(_scope.OutputBucket, BucketLayout.Report(job.StudyInstanceUid, job.SeriesInstanceUid, job.ModelVersion)));
            }

            // Competing consumers: each worker process did one of the two series.
            foreach (var name in new[] { "worker-1", "worker-2" })
                Assert.Single(processes.Single(p => p.Name == name).Lines, l => l.Contains(" denoised: ", StringComparison.Ordinal));

            // Graceful shutdown on SIGTERM: every process exits 0.
            foreach (var process in processes)
                Assert.Equal((process.Name, 0), (process.Name, await process.StopAsync(TimeSpan.FromSeconds(45))));
        }
        finally
        {
            await DisposeAllAsync(processes);
        }
    }
}
