using System.Globalization;
using System.Text.Json;
using Pipeline.Contracts;
using Pipeline.Storage;

namespace Pipeline.IntegrationTests.Pipeline;

/// <summary>
/// A broker that loses its queues (a wiped node) loses the jobs queued in them; ingest, which published them, must
/// notice that their series are complete but not done, and publish them again.
/// </summary>
public sealed partial class DistributedPipelineTests
{
    private static readonly TimeSpan JobDeadline = TimeSpan.FromSeconds(10);

    /// <summary>The workers' job queue (DenoiseSeriesConsumerDefinition.QueueName).</summary>
    private const string JobQueue = "denoise-series";

    [Fact]
    public async Task Requirement_a_job_lost_with_its_queue_is_published_again_after_the_job_deadline_and_its_series_is_done_once()
    {
        var settings = _scope.Settings();
        settings["Ingest:JobDeadline"] = JobDeadline.ToString("c", CultureInfo.InvariantCulture);
        // One job at a time: copies of a job are then handled one after the other, and only the first does the work.
        var worker = new Dictionary<string, string?>(settings)
        {
            ["Bus:PrefetchCount"] = "1", ["DenoiseWorker:ConcurrentJobs"] = "1", ["DenoiseWorker:Engine:Threads"] = "1",
        };
        List<ServiceProcess> processes = [];
        try
        {
            await using var observer = await RecorderBus.StartAsync(_scope);
            // A worker that ran once and stopped leaves its durable job queue behind: the job waits there, unconsumed.
            var first = ServiceProcess.Start("worker-before", "Pipeline.DenoiseWorker", worker);
            processes.Add(first);
            await first.WaitReadyAsync(TimeSpan.FromSeconds(90));
            Assert.Equal(0, await first.StopAsync(TimeSpan.FromSeconds(45)));

            var ingest = ServiceProcess.Start("ingest", "Pipeline.Ingest", settings);
            processes.Add(ingest);
            await ingest.WaitReadyAsync(TimeSpan.FromSeconds(90));
            await _scope.DropAsync("drop/lost/t1/", PipelineScope.SampleSeries("t1", Slices));
            var job = (await observer.Recorder.WaitForAsync<DenoiseSeries>(1, Patience))[0];

            // The broker loses the queue with the job in it.
            await using (var connection = await servers.RabbitMq.ConnectionFactory(_scope.VirtualHost).CreateConnectionAsync())
            await using (var channel = await connection.CreateChannelAsync())
            {
                Assert.Equal(1u, (await channel.QueueDeclarePassiveAsync(JobQueue)).MessageCount);
                await channel.QueueDeleteAsync(JobQueue, ifUnused: false, ifEmpty: false);
            }

            var after = ServiceProcess.Start("worker-after", "Pipeline.DenoiseWorker", worker);
            processes.Add(after);
            await observer.Recorder.WaitForAsync<SeriesDenoised>(1, Patience);

            // Published again unchanged (same revision and instance set), and done once: one marker, one run of the work.
            var jobs = observer.Recorder.All<DenoiseSeries>();
            Assert.True(jobs.Count >= 2, $"the lost job was not published again ({jobs.Count} published)");
            Assert.All(jobs, j => Assert.Equal((job.SeriesInstanceUid, job.Revision, job.SourceFingerprint), (j.SeriesInstanceUid, j.Revision, j.SourceFingerprint)));
            Assert.Contains(ingest.Lines, l => l.Contains("published again", StringComparison.Ordinal));
            var marker = JsonSerializer.Deserialize<SeriesCompletion>(await _scope.Store.GetBytesAsync(_scope.OutputBucket,
                BucketLayout.CompletionMarker(job.StudyInstanceUid, job.SeriesInstanceUid, job.ModelVersion)))!;
            Assert.Equal((1, Slices, 0), (marker.Revision, marker.Instances.Count, marker.FailedInstances.Count));
            Assert.Single(after.Lines, l => l.Contains(" denoised: ", StringComparison.Ordinal));

            foreach (var process in processes)
                Assert.Equal((process.Name, 0), (process.Name, await process.StopAsync(TimeSpan.FromSeconds(45))));
        }
        finally
        {
            await DisposeAllAsync(processes);
        }
    }

    /// <summary>Writes each process' log to the test output and kills what is still running.</summary>
    private async Task DisposeAllAsync(IEnumerable<ServiceProcess> processes)
    {
        foreach (var process in processes)
        {
            foreach (var line in process.Lines) output.WriteLine($"[{process.Name}] {line}");
            await process.DisposeAsync();
        }
    }
}
