using System.Diagnostics;
using System.Text.Json;
using Pipeline.Contracts;
using Pipeline.Storage;
using Pipeline.Storage.S3;
using Xunit.Abstractions;
using static Pipeline.IntegrationTests.Pipeline.Faults.FaultServers;

namespace Pipeline.IntegrationTests.Pipeline.Faults;

/// <summary>
/// The S3 server goes away while a job is in hand (the services as processes on a private s3rver). For 30 s: the
/// services retry with bounded backoff (about a minute: Bus:RetryLimit) and every series completes once, with nothing in
/// an error queue. For longer than a job's retries last: the job lands in the error queue with its reason, and its
/// failure record is written when the store is back (the fault consumer's own retries start after the job's ran out).
/// </summary>
[Collection(TestServersCollection.Name)]
public sealed class StorageOutageTests(TestServers servers, ITestOutputHelper output) : FaultTest(servers)
{
    private static readonly TimeSpan Outage = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan LongOutage = TimeSpan.FromSeconds(25);
    private const int Slices = 3;
    [Fact]
    public async Task Requirement_a_30_second_storage_outage_mid_run_is_ridden_out_by_retries_and_every_series_completes_once()
    {
        await using var s3 = await PrivateS3Server.StartAsync(Scope.Servers.S3);
        using var store = new S3ObjectStore(Servers.S3 with { Endpoint = s3.Endpoint });
        var settings = Scope.Settings();
        settings["Storage:S3:Endpoint"] = s3.Endpoint;
        List<ServiceProcess> processes = [];
        try
        {
            processes = await StartAsync(("ingest", "Pipeline.Ingest", settings), ("worker", "Pipeline.DenoiseWorker", Worker(Scope, settings, "worker")),
                ("evaluation", "Pipeline.Evaluation", settings));
            await using var observer = await RecorderBus.StartAsync(Scope);
            await DropAsync(store, "t1", "t1-noisy");

            // The store goes away as the first job reaches the worker (its model fetch and reads fail), and comes back after 30 s.
            await observer.Recorder.WaitForAsync<DenoiseSeries>(1, Patience);
            await s3.StopAsync();
            var down = Stopwatch.StartNew();
            await Task.Delay(Outage);
            await s3.StartAgainAsync();
            output.WriteLine($"store down for {down.Elapsed.TotalSeconds:F1} s");

            await observer.Recorder.WaitForAsync<EvaluationCompleted>(2, Patience);
            var worker = processes.Single(p => p.Name == "worker");
            Assert.Contains(worker.Lines, l => l.Contains("R-RETRY", StringComparison.Ordinal)); // the job was in hand during the outage

            // Once each: one job, one marker and one report per series, nothing in an error queue.
            var jobs = observer.Recorder.All<DenoiseSeries>();
            Assert.Equal(2, jobs.Select(j => j.SeriesInstanceUid).Distinct().Count());
            Assert.Equal(2, worker.Lines.Count(l => l.Contains(" denoised: ", StringComparison.Ordinal)));
            foreach (var job in jobs.DistinctBy(j => j.SeriesInstanceUid))
            {
                var marker = JsonSerializer.Deserialize<SeriesCompletion>(await store.GetBytesAsync(Scope.OutputBucket,
                    BucketLayout.CompletionMarker(job.StudyInstanceUid, job.SeriesInstanceUid, job.ModelVersion)))!;
                Assert.Equal((1, Slices, 0), (marker.Revision, marker.Instances.Count, marker.FailedInstances.Count));
                Assert.NotNull(await store.TryStatAsync(Scope.OutputBucket, BucketLayout.Report(job.StudyInstanceUid, job.SeriesInstanceUid, job.ModelVersion)));
            }
            foreach (var queue in new[] { "denoise-series_error", "evaluation_error", "denoise-job-fault_error" })
                Assert.Equal((queue, 0u), (queue, await QueueDepthAsync(Scope, queue)));
            Assert.All(processes, p => Assert.False(p.HasExited, $"{p.Name} exited"));
        }
        finally
        {
            await DisposeAllAsync(output, processes);
        }
    }

    [Fact]
    public async Task Requirement_a_job_whose_retries_run_out_during_an_outage_lands_in_the_error_queue_with_its_reason_and_a_failure_record()
    {
        await using var s3 = await PrivateS3Server.StartAsync(Scope.Servers.S3);
        using var store = new S3ObjectStore(Servers.S3 with { Endpoint = s3.Endpoint });
        var settings = Scope.Settings();
        settings["Storage:S3:Endpoint"] = s3.Endpoint;
        // 4 retries: the job's run out 14-20 s into the outage; the fault consumer's then reach past its end (25 s).
        var worker = Worker(Scope, settings, "worker");
        worker["Bus:RetryLimit"] = "4";
        List<ServiceProcess> processes = [];
        try
        {
            processes = await StartAsync(("ingest", "Pipeline.Ingest", settings), ("worker", "Pipeline.DenoiseWorker", worker));
            await using var observer = await RecorderBus.StartAsync(Scope);
            await DropAsync(store, "t1");

            var job = (await observer.Recorder.WaitForAsync<DenoiseSeries>(1, Patience))[0];
            await s3.StopAsync();
            var down = Stopwatch.StartNew();
            await WaitForDepthAsync(Scope, "denoise-series_error", 1, LongOutage); // ran out while the store was still away
            await Task.Delay(LongOutage - down.Elapsed);
            await s3.StartAgainAsync();

            // The reason twice: in the error queue's fault headers, and in the failure record (keyed by the job's first instance).
            var record = await WaitForFailureRecordAsync(Scope, PipelineStage.Denoise, job.Instances[0], Patience, store);
            Assert.Contains("DenoiseSeries is in the error queue: ", record.Reason, StringComparison.Ordinal);
            Assert.Equal((job.StudyInstanceUid, job.SeriesInstanceUid), (record.StudyInstanceUid, record.SeriesInstanceUid));
            var reason = Assert.Single(await FaultMessagesAsync(Scope, "denoise-series_error"));
            Assert.Contains(reason, record.Reason, StringComparison.Ordinal);
            Assert.Equal(0u, await QueueDepthAsync(Scope, "denoise-job-fault_error"));
            Assert.All(processes, p => Assert.False(p.HasExited, $"{p.Name} exited"));
        }
        finally
        {
            await DisposeAllAsync(output, processes);
        }

    }

    /// <summary>Creates the input bucket on the private store and uploads sample series into it.</summary>
    private async Task DropAsync(S3ObjectStore store, params string[] series)
    {
        await store.EnsureBucketAsync(Scope.InputBucket);
        foreach (var name in series)
            foreach (var file in PipelineScope.SampleSeries(name, Slices))
                await store.PutBytesAsync(Scope.InputBucket, $"drop/outage/{name}/{Path.GetFileName(file)}", await File.ReadAllBytesAsync(file));
    }
}
